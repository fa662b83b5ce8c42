"""``DevServer``: the dev Secret Server on its own thread and event loop, and its controls."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import urlsplit

from .api import Api, json_response
from .app import BASE_PATH, App, Stats, parse_faults_body
from .datafile import ClientCredential, Dataset, FileValue, SecretSpec, UserSpec, load_dataset
from .faults import Fault, FaultPlan, parse_fault
from .ratelimit import RateLimit
from .store import Store
from .tls import ServerIdentity, kept_identity, make_identity
from .tokens import TokenIssuer
from .wire import Request, Response, serve_connection

__all__ = ["AdminCredentials", "DevServer", "DevServerOptions", "thycotic_table"]

DEFAULT_TOKEN_TTL = 20 * 60  # Secret Server's default "Session Timeout for Webservices"


def thycotic_table(ready: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """A ``thycotic`` entry's settings that log in to the server of ``ready`` (its ready line).

    CA-verified admin login; ``overrides`` add or replace settings, and one set to ``None`` is
    left out (``password=None, password_env="VAR"``).
    """
    parts = urlsplit(ready["url"])
    table: dict[str, Any] = {
        "url": f"{parts.scheme}://{parts.hostname}",
        "port": parts.port,
        "username": ready["admin"]["username"],
        "password": ready["admin"]["password"],
        "ca_bundle": ready["ca_cert"],
        **overrides,
    }
    return {key: value for key, value in table.items() if value is not None}


class AdminCredentials(NamedTuple):
    username: str
    password: str


@dataclass(slots=True)
class DevServerOptions:
    """How to run a dev server; every field has a development-friendly default."""

    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    data: Dataset | Path | None = None  # None: the built-in demo dataset
    admin_password: str | None = None  # None: the dataset's, else random
    latency_ms: float = 0.0
    token_ttl: int = DEFAULT_TOKEN_TTL
    refresh_tokens: bool = True
    faults: list[str | Fault] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    #: a CA file (PEM): refuse at the handshake a client without a certificate it signed
    require_client_cert: str | Path | None = None
    #: keep the CA and server certificate here across restarts (else new ones in a temp dir)
    cert_dir: Path | None = None
    #: API requests per second per account (a token bucket; over it: 429 with Retry-After)
    rate_limit: float | None = None
    #: requests an account may send at once after a quiet spell (default: ``rate_limit``)
    rate_limit_burst: float | None = None


class DevServer:
    """A running dev server. Use as a context manager, or call ``start()`` and ``close()``."""

    def __init__(self, options: DevServerOptions | None = None, **overrides: Any) -> None:
        self.options = options or DevServerOptions()
        for name, value in overrides.items():
            setattr(self.options, name, value)
        opts = self.options
        dataset = self._dataset(opts.data)
        self.admin_username = dataset.admin.username
        self.admin_password = (
            opts.admin_password or dataset.admin.password or secrets.token_urlsafe(18)
        )
        self.store = Store(dataset, self.admin_password, opts.clock)
        self.tokens = TokenIssuer(opts.token_ttl, opts.refresh_tokens, opts.clock)
        self.stats = Stats()
        self.faults = FaultPlan()
        for fault in opts.faults:
            self.add_fault(fault)
        self.rate_limit = (
            None
            if opts.rate_limit is None
            else RateLimit(opts.rate_limit, opts.rate_limit_burst, opts.clock)
        )
        self.api = Api(
            self.store,
            self.tokens,
            self.stats.count_grant,
            rate_limit=self.rate_limit,
            on_throttled=self.stats.count_throttled,
        )
        self.app = App(self.api, self.faults, self.stats, opts.latency_ms / 1000, self._control)
        if opts.require_client_cert is not None and not opts.tls:
            raise ValueError("require_client_cert needs TLS")
        self._dir = Path(tempfile.mkdtemp(prefix="credchain-devserver-"))
        self._generation = 0
        self._identity: ServerIdentity | None = None
        self._first_identity: ServerIdentity | None = None
        self._ssl: ssl.SSLContext | None = None
        if opts.tls:
            self._identity = self._first_identity = (
                kept_identity(Path(opts.cert_dir)) if opts.cert_dir else make_identity(self._dir)
            )
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._identity.load_into(self._ssl)
            if opts.require_client_cert is not None:
                self._require_client_cert(Path(opts.require_client_cert))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    def _require_client_cert(self, ca: Path) -> None:
        """Mutual TLS: a client must present a certificate ``ca`` signed (at the handshake)."""
        assert self._ssl is not None
        try:
            self._ssl.load_verify_locations(cafile=str(ca))
        except (OSError, ssl.SSLError) as error:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise ValueError(f"require_client_cert: {ca} holds no PEM CA certificate") from error
        self._ssl.verify_mode = ssl.CERT_REQUIRED
        self._ssl.maximum_version = ssl.TLSVersion.TLSv1_2

    @staticmethod
    def _dataset(data: Dataset | Path | None) -> Dataset:
        if isinstance(data, Dataset):
            return data
        if data is not None:
            return load_dataset(Path(data))
        from .demo_data import demo_dataset

        return demo_dataset()

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve on a background thread; returns once the port accepts connections."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._bind())
            except OSError as error:  # e.g. port in use: reported to start()'s caller
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="credchain-devserver", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self.close()
            raise failure[0]
        return self

    async def _bind(self) -> None:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                await serve_connection(reader, writer, self.app.handle)
            except asyncio.CancelledError:
                # Only _shutdown cancels a handler. Ending quietly matters: asyncio.streams logs
                # a cancelled handler task as an error, with a traceback (Python 3.11).
                pass
            finally:
                self._writers.discard(writer)
                if task is not None:
                    self._tasks.discard(task)

        self._server = await asyncio.start_server(
            on_connection, self.options.host, self.options.port, ssl=self._ssl, backlog=512
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        # End the connection handlers too, so none is left pending when the loop closes; each
        # returns quietly when cancelled (see on_connection).
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def close(self) -> None:
        """Stop serving, end open connections and delete the temporary certificate files."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        if loop is not None and not loop.is_running():
            loop.close()
        self._loop = self._thread = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what clients need ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``https://127.0.0.1:PORT/SecretServer``."""
        return f"{self.origin}{BASE_PATH}"

    @property
    def origin(self) -> str:
        """Scheme, host and port; the ``/_dev`` control endpoints live here."""
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"{'https' if self.options.tls else 'http'}://{host}:{self.port}"

    @property
    def ca_cert(self) -> str | None:
        """Path of the CA PEM that clients should trust (``None`` with plain HTTP)."""
        return str(self._identity.ca_cert) if self._identity else None

    @property
    def fingerprint_sha256(self) -> str | None:
        """SHA-256 of the server certificate, ``AA:BB:...`` (changes on ``swap_certificate``)."""
        return self._identity.fingerprint_sha256 if self._identity else None

    @property
    def admin(self) -> AdminCredentials:
        return AdminCredentials(self.admin_username, self.admin_password)

    def ready_info(self) -> dict[str, Any]:
        """The JSON line the CLI prints when ready (holds the admin password)."""
        return {
            "url": self.url,
            "ca_cert": self.ca_cert,
            "fingerprint_sha256": self.fingerprint_sha256,
            "admin": {"username": self.admin_username, "password": self.admin_password},
        }

    def thycotic_table(self, **overrides: Any) -> dict[str, Any]:
        """Settings of a ``thycotic`` chain entry for this server (see ``thycotic_table``)."""
        return thycotic_table(self.ready_info(), **overrides)

    # -- controls (also reachable over HTTP under /_dev) ---------------------------------------

    def add_fault(self, fault: str | Fault) -> Fault:
        """Arm a fault (``Fault`` or spec string ``KIND:ROUTE[:OPTIONS]``)."""
        parsed = parse_fault(fault) if isinstance(fault, str) else fault
        self.faults.add(parsed)
        return parsed

    def clear_faults(self) -> None:
        self.faults.clear()

    def revoke_tokens(self) -> None:
        """Invalidate every access and refresh token."""
        self.tokens.revoke_all()

    def swap_certificate(self) -> str:
        """Serve a new certificate from a new CA to new connections; returns its fingerprint."""
        if self._ssl is None:
            raise RuntimeError("swap_certificate needs TLS")
        self._generation += 1
        self._identity = make_identity(self._dir, self._generation)
        self._identity.load_into(self._ssl)
        return self._identity.fingerprint_sha256

    def get_stats(self) -> dict[str, dict[str, int]]:
        """``{"requests": {"<METHOD> <route>": n}, "grants": {"password": n, ...},
        "throttled": {"<account>": n}}`` (``throttled``: answered 429 by ``rate_limit``)."""
        return self.stats.snapshot()

    def reset_stats(self) -> None:
        self.stats.reset()

    def reset(self) -> None:
        """Cheap per-test reset: dataset, no faults, zero counters, no tokens, first certificate."""
        if self._ssl is not None and self._first_identity is not self._identity:
            assert self._first_identity is not None
            self._identity = self._first_identity
            self._identity.load_into(self._ssl)
        self.store.reset()
        self.faults.clear()
        self.stats.reset()
        self.tokens.revoke_all()
        if self.rate_limit is not None:
            self.rate_limit.reset()

    def add_secret(
        self,
        name: str,
        items: Mapping[str, str | FileValue],
        *,
        template_id: int = 2,
        folder_id: int = -1,
        permissions: Iterable[str] = (),
        requires_comment: bool = False,
        check_out_enabled: bool = False,
    ) -> int:
        """Add a secret (items keyed by field slug); returns its id. The admin always sees it."""
        spec = SecretSpec(
            name=name,
            template_id=template_id,
            folder_id=folder_id,
            items=dict(items),
            permissions=list(permissions),
            requires_comment=requires_comment,
            check_out_enabled=check_out_enabled,
        )
        return self.store.add_secret(spec).id

    def add_user(
        self,
        username: str,
        password: str,
        domain: str | None = None,
        *,
        clients: Mapping[str, str] | None = None,
    ) -> None:
        """Add a user; ``clients`` (client id -> secret) are SDK clients acting as it."""
        self.store.add_user(
            UserSpec(
                username=username,
                password=password,
                domain=domain,
                clients=[
                    ClientCredential(client_id=cid, client_secret=secret)
                    for cid, secret in (clients or {}).items()
                ],
            )
        )

    def created(self) -> list[dict[str, object]]:
        """The secrets created through the API since the last reset: who, what, where, when."""
        with self.store.lock:
            return [creation.as_json() for creation in self.store.created]

    def _control(self, action: str, request: Request) -> Response | None:
        """``/_dev/<action>``: the same controls for a server in another process."""
        method = request.method
        try:
            if action == "created" and method == "GET":
                return json_response(self.created())
            if action == "stats" and method == "GET":
                return json_response(self.get_stats())
            if action == "reset-stats" and method == "POST":
                self.reset_stats()
                return json_response(self.get_stats())
            if action == "reset" and method == "POST":
                self.reset()
                return json_response({"reset": True})
            if action == "faults" and method == "GET":
                return json_response([f.as_json() for f in self.faults.armed()])
            if action == "faults" and method in ("POST", "PUT"):
                parsed = parse_faults_body(request.body)
                if method == "PUT":
                    self.clear_faults()
                for fault in parsed:
                    self.add_fault(fault)
                return json_response([f.as_json() for f in self.faults.armed()])
            if action == "faults" and method == "DELETE":
                self.clear_faults()
                return json_response([])
            if action == "revoke-tokens" and method == "POST":
                self.revoke_tokens()
                return json_response({"revoked": True})
            if action == "swap-cert" and method == "POST":
                fingerprint = self.swap_certificate()
                return json_response({"fingerprint_sha256": fingerprint, "ca_cert": self.ca_cert})
        except (ValueError, TypeError, RuntimeError, json.JSONDecodeError) as error:
            return json_response({"message": str(error)}, 400)
        return None
