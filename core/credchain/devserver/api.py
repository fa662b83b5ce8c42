"""The Secret Server REST API v1 routes, relative to the base path (``/SecretServer``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from . import render
from .datafile import FileValue, SecretSpec
from .ratelimit import RateLimit
from .store import ApiError, SearchFilter, SecretRecord, Store, User, access_denied
from .tokens import TokenIssuer
from .wire import Request, Response

__all__ = ["AUTH_FAILED", "Api", "Route", "json_response"]

AUTH_FAILED = "Authentication failed or expired token"
DEFAULT_TAKE = 10  # Secret Server's default page size


def json_response(value: object, status: int = 200, **headers: str) -> Response:
    body = json.dumps(value, separators=(",", ":")).encode()
    return Response(status, body, headers=dict(headers))


def error_response(error: ApiError) -> Response:
    return json_response({"errorCode": error.error_code, "message": error.message}, error.status)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Callable[..., Response]
    authenticated: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


class _Query:
    """``filter.*``/``take``/``skip`` parameters: case-insensitive, ``paging.`` prefix optional."""

    def __init__(self, request: Request) -> None:
        self.values: dict[str, list[str]] = {}
        for key, values in request.query.items():
            name = key.lower().removeprefix("paging.")
            self.values.setdefault(name, []).extend(values)

    def text(self, name: str, default: str = "") -> str:
        values = self.values.get(name.lower())
        return values[0] if values else default

    def all(self, *names: str) -> list[str]:
        return [v for n in names for v in self.values.get(n.lower(), []) if v]

    def flag(self, name: str) -> bool:
        return self.text(name).lower() == "true"

    def number(self, name: str, default: int | None = None) -> int | None:
        raw = self.text(name)
        try:
            return int(raw) if raw else default
        except ValueError:
            raise ApiError(400, "API_InvalidParameter", f"Invalid value for {name}.") from None

    def search_filter(self) -> SearchFilter:
        return SearchFilter(
            search_text=self.text("filter.searchText"),
            search_field=self.text("filter.searchFieldSlug") or self.text("filter.searchField"),
            is_exact_match=self.flag("filter.isExactMatch"),
            folder_id=self.number("filter.folderId"),
            include_sub_folders=self.flag("filter.includeSubFolders"),
            template_id=self.number("filter.secretTemplateId"),
            include_inactive=self.flag("filter.includeInactive"),
        )

    def page(self) -> tuple[int, int]:
        return self.number("skip", 0) or 0, self.number("take", DEFAULT_TAKE) or DEFAULT_TAKE


def _json_body(request: Request) -> dict[str, Any]:
    try:
        value = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, "API_InvalidRequest", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "API_InvalidRequest", "The request body must be a JSON object.")
    return value


class Api:
    """Route handlers; ``routes`` lists them with their templates (used for stats and faults)."""

    def __init__(
        self,
        store: Store,
        tokens: TokenIssuer,
        on_grant: Callable[[str], None],
        *,
        rate_limit: RateLimit | None = None,
        on_throttled: Callable[[str], None] = lambda account: None,
    ) -> None:
        self.store, self.tokens, self._on_grant = store, tokens, on_grant
        self.rate_limit, self._on_throttled = rate_limit, on_throttled
        secret = "api/v1/secrets/{id}"  # noqa: S105 (a route, not a password)
        # Literal segments come before {id} so "secrets/lookup" is not read as an id.
        self.routes = [
            Route("POST", "oauth2/token", self.token, authenticated=False),
            Route("GET", "api/v1/healthcheck", self.healthcheck, authenticated=False),
            Route("POST", "api/v1/oauth-expiration", self.expire_token),
            Route("GET", "api/v1/secrets", self.search),
            Route("GET", "api/v1/secrets/search-total", self.search_total),
            Route("GET", "api/v1/secrets/lookup", self.lookup),
            Route("GET", "api/v1/secrets/stub", self.stub),
            Route("POST", "api/v1/secrets", self.create),
            Route("GET", secret, self.get_secret),
            Route("PUT", secret, self.update),
            Route("DELETE", secret, self.delete),
            Route("GET", secret + "/fields/{slug}", self.get_field),
            Route("POST", secret + "/restricted", self.restricted),
            Route("POST", secret + "/restricted/fields/{slug}", self.restricted_field),
            Route("POST", secret + "/check-out", self.check_out),
            Route("POST", secret + "/check-in", self.check_in),
            Route("GET", "api/v1/secret-templates", self.templates),
            Route("GET", "api/v1/secret-templates/{id}", self.template),
            Route("GET", "api/v1/folders/lookup", self.folder_lookup),
            Route("GET", "api/v1/folders/{id}", self.folder),
        ]
        self._table = [(r, r.template.split("/")) for r in self.routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for ``path`` (relative to the base path), with its parameters."""
        segments = path.strip("/").split("/")
        for route, pattern in self._table:
            if route.method != method or len(pattern) != len(segments):
                continue
            params: dict[str, str] = {}
            for want, got in zip(pattern, segments, strict=True):
                if want == "{id}":
                    if not got.lstrip("-").isdigit():
                        break
                    params["id"] = got
                elif want.startswith("{"):
                    params[want[1:-1]] = got
                elif want.lower() != got.lower():
                    break
            else:
                return route, params
        return None

    def dispatch(self, route: Route, params: dict[str, str], request: Request) -> Response:
        try:
            if not route.authenticated:
                return route.handler(request)
            user = self._bearer(request)
            if user is None:
                return json_response(
                    {"errorCode": "API_AuthenticationFailed", "message": AUTH_FAILED}, 401
                )
            if self.rate_limit is not None:
                retry_after = self.rate_limit.take(user.username)
                if retry_after:
                    self._on_throttled(user.username)
                    return json_response(
                        {"errorCode": "API_TooManyRequests", "message": "Too Many Requests"},
                        429,
                        **{"Retry-After": str(retry_after)},
                    )
            return route.handler(request, user, **params)
        except ApiError as error:
            return error_response(error)

    def _bearer(self, request: Request) -> User | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self.tokens.user_for(token.strip()) if scheme.lower() == "bearer" else None

    # -- authentication ------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        grant_type = form.get("grant_type", "")
        user: User | None
        if grant_type == "password":
            user = self.store.authenticate(
                form.get("username", ""), form.get("password", ""), form.get("domain") or None
            )
        elif grant_type == "refresh_token":
            user = self.tokens.redeem_refresh(form.get("refresh_token", ""))
        elif grant_type == "client_credentials":
            user = self.store.client(form.get("client_id", ""), form.get("client_secret", ""))
        else:
            return json_response({"error": "unsupported_grant_type"}, 400)
        if user is None:
            # OAuth2 (RFC 6749 5.2) style with a string "error": what python-tss-sdk reports.
            return json_response(
                {"error": "invalid_grant", "error_description": "Login failed."}, 400
            )
        self._on_grant(grant_type)
        return json_response(self.tokens.issue(user).as_json())

    def healthcheck(self, request: Request) -> Response:
        # Capital H: python-tss-sdk reads json["Healthy"] (reference section 7).
        return json_response({"Healthy": True, "DatabaseHealthy": True, "ServiceBusHealthy": True})

    def expire_token(self, request: Request, user: User) -> Response:
        self.tokens.expire(request.headers.get("authorization", "").partition(" ")[2].strip())
        return json_response(True)

    # -- search --------------------------------------------------------------------------------

    def search(self, request: Request, user: User) -> Response:
        query = _Query(request)
        found = self.store.search(user, query.search_filter())
        fields = query.all("filter.extendedFields", "filter.extendedField")
        skip, take = query.page()
        page = found[skip : skip + take]
        records = [render.secret_summary(self.store, s, fields) for s in page]
        return json_response(render.paged(records, skip, take, total=len(found)))

    def search_total(self, request: Request, user: User) -> Response:
        return json_response(len(self.store.search(user, _Query(request).search_filter())))

    def lookup(self, request: Request, user: User) -> Response:
        query = _Query(request)
        found = self.store.search(user, query.search_filter())
        return json_response(
            render.paged([{"id": s.id, "value": s.name} for s in found], *query.page())
        )

    # -- one secret ----------------------------------------------------------------------------

    def _secret(self, request: Request, user: User, id: str) -> SecretRecord:
        secret_id = int(id)
        if secret_id == 0 and request.arg("secretPath"):
            secret = self.store.by_path(user, request.arg("secretPath"))
        else:
            secret = self.store.get(user, secret_id)
        if not secret.active and request.arg("includeInactive").lower() != "true":
            raise access_denied()
        return secret

    def _open(self, user: User, secret: SecretRecord, comment: str, no_checkout: bool) -> None:
        """Enforce the access policy of a read: comment required, check-out."""
        if secret.requires_comment and not comment.strip():
            raise ApiError(
                400,
                "API_ValidateSecretAccessCommentRequired",
                "The requested Secret requires a comment when viewed.",
            )
        if secret.check_out_enabled:
            holder = self.store.holder(secret)
            if holder is None or holder.id != user.id:
                if no_checkout:
                    raise ApiError(
                        400, "API_CheckOutRequired", "The Secret must be checked out to be viewed."
                    )
                self.store.check_out(user, secret)  # automatic check-out, as since 11.0

    def get_secret(self, request: Request, user: User, id: str) -> Response:
        secret = self._secret(request, user, id)
        no_checkout = request.arg("noAutoCheckout").lower() == "true"
        self._open(user, secret, request.arg("autoComment"), no_checkout)
        return json_response(render.secret_model(self.store, secret))

    def _field(self, secret: SecretRecord, slug: str) -> Response:
        field = secret.template.field(slug)
        if field is None:
            raise ApiError(400, "API_FieldNotFound", "The field does not exist on this Secret.")
        raw = secret.items.get(field.slug, "")
        if field.is_file:
            content = raw.content if isinstance(raw, FileValue) else raw
            name = raw.filename if isinstance(raw, FileValue) else field.slug
            disposition = f'attachment; filename="{name}"'
            return Response(
                200,
                content.encode(),
                "application/octet-stream",
                {"Content-Disposition": disposition},
            )
        return json_response(secret.value(field.slug))

    def get_field(self, request: Request, user: User, id: str, slug: str) -> Response:
        secret = self._secret(request, user, id)
        self._open(user, secret, request.arg("autoComment"), False)
        return self._field(secret, slug)

    def restricted(self, request: Request, user: User, id: str) -> Response:
        body = _json_body(request)
        secret = self._secret(request, user, id)
        self._open(user, secret, str(body.get("comment") or ""), bool(body.get("noAutoCheckout")))
        return json_response(render.secret_model(self.store, secret))

    def restricted_field(self, request: Request, user: User, id: str, slug: str) -> Response:
        body = _json_body(request)
        secret = self._secret(request, user, id)
        self._open(user, secret, str(body.get("comment") or ""), False)
        return self._field(secret, slug)

    def check_out(self, request: Request, user: User, id: str) -> Response:
        self.store.check_out(user, self._secret(request, user, id))
        return json_response({"responseCodes": []})

    def check_in(self, request: Request, user: User, id: str) -> Response:
        body = _json_body(request)
        secret = self._secret(request, user, id)
        self.store.check_in(user, secret, bool(body.get("forceCheckIn")))
        return json_response(render.secret_summary(self.store, secret))

    # -- create, update, delete ----------------------------------------------------------------

    def stub(self, request: Request, user: User) -> Response:
        query = _Query(request)
        # filter.* as documented (reference section 2); the bare names as some scripts send them
        template_id = query.number("filter.secretTemplateId") or query.number("secretTemplateId")
        folder_id = query.number("filter.folderId") or query.number("folderId") or -1
        spec = self.store.templates.get(template_id or 2)
        if spec is None:
            raise ApiError(400, "API_InvalidTemplate", "Secret template not found.")
        if folder_id != -1 and folder_id not in self.store.folders:
            raise ApiError(400, "API_FolderNotFound", "Folder not found.")
        stub = SecretRecord(0, "", folder_id, spec, {f.slug: "" for f in spec.fields})
        return json_response(render.secret_model(self.store, stub))

    @staticmethod
    def _items(body: dict[str, Any], secret_fields: list[Any]) -> dict[str, str]:
        by_id = {f.field_id: f.slug for f in secret_fields}
        items: dict[str, str] = {}
        for item in body.get("items") or []:
            if not isinstance(item, dict):
                continue
            slug = item.get("slug") or by_id.get(item.get("fieldId"))
            if slug and item.get("itemValue") is not None:
                items[slug] = str(item["itemValue"])
        return items

    def create(self, request: Request, user: User) -> Response:
        body = _json_body(request)
        try:
            template_id = int(body.get("secretTemplateId") or 0)
            folder_id = int(body.get("folderId") or -1)
        except (TypeError, ValueError):
            raise ApiError(
                400, "API_InvalidRequest", "secretTemplateId and folderId must be integers."
            ) from None
        spec = self.store.templates.get(template_id)
        if spec is None:
            raise ApiError(400, "API_InvalidTemplate", "Secret template not found.")
        record = self.store.create(
            user,
            SecretSpec(
                name=str(body.get("name") or ""),
                folder_id=folder_id,
                template_id=template_id,
                items=dict(self._items(body, spec.fields)),
                requires_comment=bool(body.get("requiresComment")),
                check_out_enabled=bool(body.get("checkOutEnabled")),
                permissions=[user.username],
            ),
        )
        return json_response(render.secret_model(self.store, record))

    def update(self, request: Request, user: User, id: str) -> Response:
        body = _json_body(request)
        secret = self._secret(request, user, id)
        with self.store.lock:
            secret.name = str(body.get("name") or secret.name)
            secret.folder_id = int(body.get("folderId", secret.folder_id))
            secret.active = bool(body.get("active", secret.active))
            secret.requires_comment = bool(body.get("requiresComment", secret.requires_comment))
            secret.check_out_enabled = bool(body.get("checkOutEnabled", secret.check_out_enabled))
            secret.items.update(self._items(body, secret.template.fields))
            self.store.reindex(secret)
        return json_response(render.secret_model(self.store, secret))

    def delete(self, request: Request, user: User, id: str) -> Response:
        secret = self._secret(request, user, id)
        secret.active = False  # Secret Server deactivates rather than erases
        return json_response({"id": secret.id, "objectType": "Secret", "responseCodes": []})

    # -- templates and folders -----------------------------------------------------------------

    def templates(self, request: Request, user: User) -> Response:
        records = [
            render.template(t) for t in sorted(self.store.templates.values(), key=lambda t: t.id)
        ]
        return json_response(render.paged(records, *_Query(request).page()))

    def template(self, request: Request, user: User, id: str) -> Response:
        spec = self.store.templates.get(int(id))
        if spec is None:
            raise access_denied()
        return json_response(render.template(spec))

    def folder(self, request: Request, user: User, id: str) -> Response:
        folder_id = int(id)
        if folder_id == 0 and request.arg("folderPath"):
            folder_id = self.store.folder_by_path(request.arg("folderPath"))
        if folder_id not in self.store.folders:
            raise access_denied()
        children = request.arg("getAllChildren").lower() == "true"
        return json_response(render.folder(self.store, folder_id, children))

    def folder_lookup(self, request: Request, user: User) -> Response:
        query = _Query(request)
        text = query.text("filter.searchText").casefold()
        parent = query.number("filter.parentFolderId")
        direct = query.flag("filter.limitToDirectDescendents")
        found = []
        for spec in sorted(self.store.folders.values(), key=lambda f: f.id):
            if text and text not in spec.name.casefold():
                continue
            if parent is not None and direct and spec.parent != parent:
                continue
            if parent is not None and not direct and not self._under(spec.id, parent):
                continue
            found.append({"id": spec.id, "value": spec.name})
        return json_response(render.paged(found, *query.page()))

    def _under(self, folder_id: int, ancestor: int) -> bool:
        current = self.store.folders.get(folder_id)
        while current is not None and current.parent is not None:
            if current.parent == ancestor:
                return True
            current = self.store.folders.get(current.parent)
        return False
