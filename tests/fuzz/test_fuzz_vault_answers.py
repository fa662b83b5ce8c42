"""Fuzz: generated vault answers, served by the dev server's ``body`` fault to a real resolver.

For the search, the secret and the token route, hypothesis generates a body (JSON of any shape,
answers shaped almost like the API's, numbers Python cannot hold such as ``1e400``, deep
nesting, truncated JSON, bytes that are not UTF-8, HTML, nothing), a status and a Content-Type.
A resolver with a ``thycotic`` entry, or with a ``domain-fallback`` entry on the same vault,
looks an asset up, and the outcome must be a credential, "not found", or a documented credchain
error (a ``ProviderUnavailable`` or a ``ProviderError``, never "provider bug"), within the
timeout, with no planted secret in the error, its trace or the log.

``CREDCHAIN_FUZZ_VAULT_EXAMPLES=2000`` runs each test with that many examples (by hand).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.config import Config, EntryConfig
from credchain.devserver import Dataset, DevServer, Fault, SecretSpec
from credchain.errors import CredentialNotFound, ProviderError, ProviderUnavailable
from credchain.provider import ProviderContext
from credchain.testing.secrets import assert_no_secrets
from credchain_domain_fallback import DomainFallbackProvider, DomainFallbackSettings
from credchain_thycotic import ThycoticProvider, ThycoticSettings

EXAMPLES = int(os.environ.get("CREDCHAIN_FUZZ_VAULT_EXAMPLES", "25"))
#: seconds a whole test may take: an example takes ~20 ms, a hang is stopped by read_timeout (5 s)
HANG = 60 + EXAMPLES // 10
HOST = "fz-host.corp.example.com"
MACHINE_ID, DOMAIN_ID = 501, 502
#: the dataset's passwords, and what generated answers put where a secret goes
PASSWORDS = {MACHINE_ID: "Fz-Pw-501-q8Rm!x2", DOMAIN_ID: "Fz-Pw-502-k3Tn!w7"}
PLANTED = ["Fz-Planted-7Hq2", "Fz-Token-4Xk9Zr", "Fz-Refresh-2Lp8"]
SECRETS = [*PASSWORDS.values(), *PLANTED]

ROUTES = {
    "search": "GET api/v1/secrets",
    "secret": "* api/v1/secrets/{id}*",  # the plain read and the restricted one
    "token": "POST oauth2/token",
}
DATASET = Dataset(
    secrets=[
        SecretSpec(
            id=MACHINE_ID,
            name=HOST,
            template_id=6003,
            items={"machine": HOST, "username": "Administrator", "password": PASSWORDS[MACHINE_ID]},
        ),
        SecretSpec(
            id=DOMAIN_ID,
            name="CORP svc-scan",
            template_id=6001,
            items={"domain": "CORP", "username": "svc-scan", "password": PASSWORDS[DOMAIN_ID]},
        ),
    ]
)
#: a search answer that withholds the password, so the secret is read (the secret route)
WITHHOLDING = json.dumps(
    {
        "records": [
            {
                "id": MACHINE_ID,
                "name": HOST,
                "extendedFields": [
                    {"name": "Machine", "value": HOST},
                    {"name": "Domain", "value": ""},
                    {"name": "Username", "value": "Administrator"},
                    {"name": "Password", "value": None},
                ],
            }
        ]
    }
)


# -- strategies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A JSON number written as is: ``1e400`` (inf to Python), 5,000 digits, ``NaN``."""

    text: str


def dump(value: object) -> str:
    """JSON text of ``value``, with ``Raw`` numbers as written (json.dumps cannot write them)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, RealToken):
        return json.dumps(REAL_TOKEN[0])
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def raw_number(text: str) -> Raw:
    return Raw("1" + "0" * 5000 if text == "5000 digits" else text)


RAW_NUMBERS = st.sampled_from(
    ["1e400", "-1e400", "5000 digits", "-0", "1E+2", "0.1e-400", "NaN", "Infinity", "-Infinity"]
).map(raw_number)


@dataclass(frozen=True)
class RealToken:
    """Written as a token the dev server granted, so a generated token answer can work."""


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight (the first ones shrink first)."""
    listed = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(listed).flatmap(lambda strategy: strategy)


KEYS = st.sampled_from(
    [
        "records",
        "id",
        "name",
        "secretTemplateName",
        "requiresComment",
        "extendedFields",
        "value",
        "items",
        "itemValue",
        "fieldName",
        "slug",
        "access_token",
        "expires_in",
        "refresh_token",
        "token_type",
        "errorCode",
        "message",
        "error",
    ]
) | st.text(max_size=8)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=20)
    | RAW_NUMBERS
)
ANY_JSON = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` mostly, else any JSON value: one wrong value in an answer is enough."""
    return weighted((12, valid), (1, ANY_JSON))


# Planted secrets go only where a secret goes (password values, tokens): a name, a username or
# the vault's own error message is shown by design.
SECRET_ID = st.sampled_from([MACHINE_ID, DOMAIN_ID, 999])
PASSWORD_VALUE = mostly(st.sampled_from([PLANTED[0], None]))
TEXT_VALUE = mostly(
    st.text(max_size=12) | st.sampled_from([HOST, "CORP", "", "svc-scan"]) | st.none()
)
EXTENDED_FIELD = mostly(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["Password", "password"]), "value": PASSWORD_VALUE}
    )
    | st.fixed_dictionaries(
        {"name": st.sampled_from(["Username", "Machine", "Domain", "Notes"]), "value": TEXT_VALUE}
    )
)
USERNAME_FIELD = st.fixed_dictionaries({"name": st.just("Username"), "value": TEXT_VALUE})
PASSWORD_FIELD = st.fixed_dictionaries({"name": st.just("Password"), "value": PASSWORD_VALUE})


def credential_first(parts: Any) -> Any:
    """``(username, password, others)`` as one list; anything else as it is."""
    return [parts[0], parts[1], *parts[2]] if isinstance(parts, tuple) else parts


#: a whole credential and more, or any fields
EXTENDED_FIELDS = weighted(
    (2, st.tuples(USERNAME_FIELD, PASSWORD_FIELD, st.lists(EXTENDED_FIELD, max_size=3))),
    (1, st.lists(EXTENDED_FIELD, max_size=5)),
).map(credential_first)
SUMMARY = mostly(
    st.fixed_dictionaries(
        {"id": mostly(SECRET_ID)},
        optional={
            "name": mostly(st.text(max_size=12)),
            "secretTemplateName": mostly(st.text(max_size=12)),
            "requiresComment": mostly(st.booleans()),
            "extendedFields": mostly(EXTENDED_FIELDS | st.none()),
        },
    )
)
ITEM = mostly(
    st.fixed_dictionaries(
        {"fieldName": st.just("Password"), "slug": st.just("password"), "itemValue": PASSWORD_VALUE}
    )
    | st.fixed_dictionaries(
        {},
        optional={
            "fieldName": mostly(st.sampled_from(["Username", "Machine", "Notes"])),
            "slug": mostly(st.sampled_from(["username", "machine", "notes"])),
            "itemValue": TEXT_VALUE,
        },
    )
)
USERNAME_ITEM = st.fixed_dictionaries(
    {"fieldName": st.just("Username"), "slug": st.just("username"), "itemValue": TEXT_VALUE}
)
PASSWORD_ITEM = st.fixed_dictionaries(
    {"fieldName": st.just("Password"), "slug": st.just("password"), "itemValue": PASSWORD_VALUE}
)
ITEMS = weighted(
    (2, st.tuples(USERNAME_ITEM, PASSWORD_ITEM, st.lists(ITEM, max_size=3))),
    (1, st.lists(ITEM, max_size=5)),
).map(credential_first)
SHAPED = {
    "search": st.fixed_dictionaries(
        {}, optional={"records": mostly(st.lists(SUMMARY, max_size=4)), "total": ANY_JSON}
    ),
    "secret": st.fixed_dictionaries(
        {"id": mostly(SECRET_ID)},
        optional={
            "name": mostly(st.text(max_size=12)),
            "items": mostly(ITEMS),
        },
    ),
    "token": st.fixed_dictionaries(
        {
            "access_token": mostly(
                weighted((3, st.just(RealToken())), (1, st.just(PLANTED[1])), (1, st.text()))
            )
        },
        optional={
            "token_type": mostly(st.just("bearer")),
            "expires_in": mostly(st.integers(-10, 10**6) | st.floats() | RAW_NUMBERS),
            "refresh_token": mostly(st.just(PLANTED[2]) | st.none()),
        },
    ),
}


def deep(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + ("1" if opener != "[" else "") + closer * depth


def html_page(title: str | None, inner: str) -> str:
    head = f"<title>{title}</title>" if title is not None else ""
    return f"<!DOCTYPE html><html><head>{head}</head><body>{inner}</body></html>"


def text_bodies(route: str) -> st.SearchStrategy[str]:
    shaped = SHAPED[route].map(dump)
    truncated = st.tuples(shaped, st.floats(0, 1)).map(lambda t: t[0][: int(len(t[0]) * t[1])])
    nested = st.builds(
        deep, st.sampled_from([10, 900, 1_100, 100_000]), st.sampled_from(["[", '{"a":'])
    )
    # A page's title is shown by design; its body never is, so that is where a secret goes.
    pages = st.builds(
        html_page,
        st.none() | st.text(max_size=20),
        st.sampled_from([PLANTED[0], "Maintenance", json.dumps({"password": PLANTED[0]})]),
    )
    return weighted(
        (6, shaped),
        (2, ANY_JSON.map(dump)),
        (1, truncated),
        (1, nested),
        (1, pages),
        (1, st.just("")),
    )


def encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate makes it not UTF-8


def spliced(text: str, junk: bytes, where: float) -> bytes:
    """``text`` with ``junk`` bytes put in at the fraction ``where`` of its length."""
    raw = encoded(text)
    cut = int(len(raw) * where)
    return raw[:cut] + junk + raw[cut:]


def bodies(route: str) -> st.SearchStrategy[bytes]:
    text = text_bodies(route)
    return weighted(
        (6, text.map(encoded)),
        (1, text.map(lambda t: t.encode("utf-16", "surrogatepass"))),
        (1, st.builds(spliced, text, st.binary(min_size=1, max_size=4), st.floats(0, 1))),
        (1, st.binary(max_size=64)),
    )


STATUSES = weighted(
    (8, st.just(200)), (1, st.sampled_from([201, 302, 400, 401, 403, 404, 500, 503]))
)
CONTENT_TYPES = weighted(
    (4, st.just("application/json; charset=utf-8")),
    (1, st.sampled_from(["application/json", "text/html", "text/plain", ""])),
)
PROVIDERS = ["thycotic", "domain-fallback"]


# -- the server and the resolvers -----------------------------------------------------------------


#: a token the module's dev server granted (``RealToken`` in a generated answer)
REAL_TOKEN: list[str] = []


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=DATASET) as running:
        grant = requests.post(
            f"{running.url}/oauth2/token",
            data={
                "grant_type": "password",
                "username": running.admin.username,
                "password": running.admin.password,
            },
            verify=running.ca_cert,
            timeout=10,
        )
        REAL_TOKEN[:] = [grant.json()["access_token"]]
        yield running
        REAL_TOKEN.clear()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-home")


class Captured(logging.Handler):
    """Every credchain log record's text, debug and tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.fixture(scope="module")
def log_text() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger("credchain")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def connection(server: DevServer) -> dict[str, Any]:
    # No retries (a 5xx is final at once), no token cache (each example logs in anew)
    return server.thycotic_table(retries=0, read_timeout=5.0, token_cache=False, comment="fuzz")


def make_resolver(server: DevServer, home: Path, kind: str) -> Resolver:
    if kind == "thycotic":
        settings = ThycoticSettings.model_validate(connection(server))
        provider: object = ThycoticProvider(settings, ProviderContext("vault", home))
    else:
        primary = EntryConfig("primary", "thycotic", settings=connection(server))
        config = Config(path=None, home=home, chain=("vault",), providers={"primary": primary})
        provider = DomainFallbackProvider(
            DomainFallbackSettings.model_validate({"connection": "primary", "domains": ["CORP"]}),
            ProviderContext("vault", home, config=config),
        )
    return Resolver([ChainEntry("vault", provider, type=kind)])


@contextmanager
def serving(
    server: DevServer, route: str, status: int, content_type: str, body: bytes
) -> Iterator[None]:
    if route == "secret":
        server.add_fault(Fault("body", ROUTES["search"], body=WITHHOLDING))
    server.add_fault(
        Fault("body", ROUTES[route], status=status, content_type=content_type, body=body)
    )
    try:
        yield
    finally:
        server.clear_faults()


def check_outcome(
    server: DevServer, home: Path, log_text: Captured, kind: str, query: AssetQuery
) -> None:
    """The lookup ends as a credential, "not found" or a documented error with no secret in it."""
    log_text.texts.clear()
    resolver = make_resolver(server, home, kind)
    shown = error = ""
    try:
        resolver.resolve(query)
        outcome = "credential"
    except CredentialNotFound as exc:
        outcome, shown = "not found", str(exc)
    except (ProviderUnavailable, ProviderError) as exc:
        outcome, error, shown = type(exc).__name__, str(exc), f"{exc}\n{exc.trace}"
    finally:
        resolver.close()
    event(outcome)  # --hypothesis-show-statistics tells how often each outcome came
    assert "provider bug" not in error, error
    assert_no_secrets(shown + "\n".join(log_text.texts), [*SECRETS, *REAL_TOKEN])


QUERIES = st.sampled_from(
    [AssetQuery(asset_name=HOST), AssetQuery(asset_name="ws-99.corp.example.com", domain="CORP")]
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a loaded 2-core machine must not fail the run; the timeout catches hangs
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.timeout(HANG)
@pytest.mark.parametrize("kind", PROVIDERS)
@FUZZ
@given(status=STATUSES, content_type=CONTENT_TYPES, body=bodies("search"), query=QUERIES)
def test_generated_search_answers(
    server: DevServer,
    home: Path,
    log_text: Captured,
    kind: str,
    status: int,
    content_type: str,
    body: bytes,
    query: AssetQuery,
) -> None:
    with serving(server, "search", status, content_type, body):
        check_outcome(server, home, log_text, kind, query)


@pytest.mark.timeout(HANG)
@pytest.mark.parametrize("kind", PROVIDERS)
@FUZZ
@given(status=STATUSES, content_type=CONTENT_TYPES, body=bodies("secret"))
def test_generated_secret_answers(
    server: DevServer,
    home: Path,
    log_text: Captured,
    kind: str,
    status: int,
    content_type: str,
    body: bytes,
) -> None:
    with serving(server, "secret", status, content_type, body):
        check_outcome(server, home, log_text, kind, AssetQuery(asset_name=HOST))


@pytest.mark.timeout(HANG)
@pytest.mark.parametrize("kind", PROVIDERS)
@FUZZ
@given(status=STATUSES, content_type=CONTENT_TYPES, body=bodies("token"), query=QUERIES)
def test_generated_token_answers(
    server: DevServer,
    home: Path,
    log_text: Captured,
    kind: str,
    status: int,
    content_type: str,
    body: bytes,
    query: AssetQuery,
) -> None:
    with serving(server, "token", status, content_type, body):
        check_outcome(server, home, log_text, kind, query)
