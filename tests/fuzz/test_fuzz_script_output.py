"""Fuzzing what ``get_password_from_thycotic`` returns: a credential, "not here", or an error.

Generated return values (SAFE dicts whose values are of any type: base64, ``encodestring`` style,
not base64, bytes, numbers, lists, nested, huge) go through the worker's side
(``ScriptRunner``, in this process), the protocol's JSON, and ``credential_from_reply``: the
result is a ``SafeCredential``, ``None`` or a ``ScriptError`` (``CredentialFormatError`` from
``SafeCredential.from_safe_dict``), and no error repeats a planted password. A few go through
a real worker process too.
"""

from __future__ import annotations

import base64
import json
import math
import pickle
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_helpers import (
    JSON_VALUES,
    PLAIN_TEXT,
    TEXT,
    fuzz_settings,
    fuzz_timeout,
    huge_text,
)
from hypothesis import given
from hypothesis import strategies as st

from credchain import AssetQuery
from credchain.errors import CredentialFormatError, ScriptError
from credchain.models import SafeCredential
from credchain.provider import ProviderContext
from credchain.testing.secrets import assert_no_secrets
from credchain_custom_script import SCRIPT_NAME, CustomScriptProvider, CustomScriptSettings
from credchain_custom_script.output import credential_from_reply
from credchain_custom_script.protocol import MAX_MESSAGE, MAX_SCRIPT
from credchain_custom_script.worker import ScriptRunner

pytestmark = fuzz_timeout(90)

SCRIPT = Path("/opt/scanner/integrations/custom/thycotic") / SCRIPT_NAME
MARK = "planted-Sc-"  # every generated password starts with it; no message may hold one
SECRET_CHARACTERS = st.characters(exclude_categories=["Cs"])  # a password is UTF-8 text


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


#: how a script may spell a password: the value it returns, from the secret text
ENCODINGS = {
    "base64": b64,
    "encodestring": lambda text: base64.encodebytes(text.encode()).decode(),
    "encodestring-crlf": lambda text: (
        base64.encodebytes(text.encode()).decode().replace("\n", "\r\n")
    ),
    "encodestring-bytes": lambda text: base64.encodebytes(text.encode()),
    "raw": lambda text: text,
    "raw-bytes": lambda text: text.encode(),
    "unpadded": lambda text: b64(text).rstrip("="),
    "truncated": lambda text: b64(text)[:-1],
    "urlsafe": lambda text: base64.urlsafe_b64encode(text.encode()).decode(),
    "spaced": lambda text: " " + b64(text) + " ",
    "latin-1": lambda text: base64.b64encode(text.encode("latin-1", "replace")).decode(),
    "in-a-list": lambda text: [b64(text)],
    "in-a-dict": lambda text: {"value": b64(text)},
}
SECRET_TEXT = st.one_of(
    st.text(SECRET_CHARACTERS, max_size=30),
    huge_text(max_size=50_000, alphabet=SECRET_CHARACTERS),
).map(lambda text: MARK + text)


#: the encodings that must read back as the very secret
FAITHFUL = {"base64", "encodestring", "encodestring-crlf"}


class Planted:
    """The secrets a generated return value holds, and what each key must read back as."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.expected: dict[str, str] = {}


@st.composite
def password(draw: st.DrawFn, planted: Planted, key: str) -> object:
    """A password value in one of ``ENCODINGS`` (its secret planted), or a value of another kind."""
    if draw(st.integers(0, 7)) == 0:
        return draw(JSON_VALUES)
    secret = draw(SECRET_TEXT)
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    planted.secrets.append(secret)
    if encoding in FAITHFUL:
        planted.expected[key] = secret
    return ENCODINGS[encoding](secret)


@st.composite
def script_returns(draw: st.DrawFn) -> tuple[object, Planted]:
    """What a script returns, and the secrets planted in it."""
    planted = Planted()
    safe = {}
    if draw(st.integers(0, 9)):
        safe["username"] = draw(st.one_of(PLAIN_TEXT, TEXT, JSON_VALUES, st.just("")))
    if draw(st.integers(0, 9)):
        safe["password"] = draw(password(planted, "password"))
    if draw(st.booleans()):
        safe["privilegePassword"] = draw(
            st.one_of(st.just(""), st.none(), password(planted, "privilegePassword"))
        )
    if draw(st.integers(0, 7)) == 0:
        safe[draw(st.one_of(TEXT, st.integers(), st.none()))] = draw(JSON_VALUES)
    shape = draw(st.integers(0, 9))
    value: object = safe
    if shape == 1:
        value = [safe]
    elif shape == 2:
        value = tuple(safe.items())
    elif shape == 3:
        value = draw(st.one_of(JSON_VALUES, st.binary(max_size=20), st.sets(st.integers())))
    return value, planted


def as_received(reply: dict[str, object]) -> dict[str, object] | None:
    """The reply as the parent reads it, through the protocol's JSON; ``None`` if over its limit
    (the pool then stops the worker with a ``ScriptError``)."""
    body = json.dumps(reply, separators=(",", ":")).encode()
    if len(body) > MAX_MESSAGE:
        return None
    message = json.loads(body)
    assert isinstance(message, dict)
    return message


def check_outcome(outcome: SafeCredential | Exception | None, planted: Planted) -> None:
    if isinstance(outcome, SafeCredential):
        assert outcome.username
        read = {"password": outcome.password, "privilegePassword": outcome.privilege_password}
        for key, secret in planted.expected.items():
            value = read[key]
            assert value is not None and value.get_secret_value() == secret
        safe = outcome.to_safe_dict()
        assert "\n" not in safe["password"]
        assert SafeCredential.from_safe_dict(safe).to_safe_dict() == safe
        assert_no_secrets(repr(outcome) + str(outcome), planted.secrets)
    elif outcome is not None:
        assert isinstance(outcome, ScriptError | CredentialFormatError), repr(outcome)
        assert_no_secrets(str(outcome), planted.secrets)


def returning(value: object) -> bytes:
    """A script whose entry point returns ``value`` (any picklable value, nan and bytes too)."""
    return (
        "import pickle\n\n"
        "def get_password_from_thycotic(query_data):\n"
        f"    return pickle.loads({pickle.dumps(value)!r})\n"
    ).encode()


def run_in_process(value: object) -> SafeCredential | ScriptError | None:
    """The worker's side in this process (``ScriptRunner``), then the parent's."""
    runner = ScriptRunner(SCRIPT)
    assert runner.load(returning(value)) is None
    reply = as_received(runner.call({"asset_name": "web-01"}))
    if reply is None:
        return ScriptError("over the message limit")
    try:
        return credential_from_reply(reply, SCRIPT)
    except ScriptError as exc:
        return exc


@fuzz_settings(400)
@given(script_returns())
def test_any_return_value_is_a_credential_not_here_or_a_script_error(
    returned: tuple[object, Planted],
) -> None:
    value, planted = returned
    check_outcome(run_in_process(value), planted)


@fuzz_settings(400)
@given(script_returns())
def test_any_safe_dict_reads_as_a_credential_or_a_format_error_naming_the_key(
    returned: tuple[object, Planted],
) -> None:
    value, planted = returned
    outcome: SafeCredential | CredentialFormatError
    try:
        outcome = SafeCredential.from_safe_dict(value)
    except CredentialFormatError as exc:
        outcome = exc
    check_outcome(outcome, planted)
    if isinstance(outcome, CredentialFormatError) and outcome.key is not None:
        assert isinstance(value, dict)
        assert outcome.key in {str(key) for key in value} | {"username", "password"}


@fuzz_settings(200)
@given(
    st.fixed_dictionaries(
        {"kind": st.one_of(st.sampled_from(["found", "not_found", "bad_output", "raised"]), TEXT)},
        optional={
            "value": JSON_VALUES,
            "reason": JSON_VALUES,
            "type": JSON_VALUES,
            "line": JSON_VALUES,
        },
    )
)
def test_any_reply_is_a_credential_not_here_or_a_script_error(reply: dict[str, object]) -> None:
    outcome: SafeCredential | ScriptError | None
    try:
        outcome = credential_from_reply(reply, SCRIPT)
    except ScriptError as exc:
        outcome = exc
    assert outcome is None or isinstance(outcome, SafeCredential) or str(outcome)


@pytest.mark.parametrize(
    "encoding", ["base64", "encodestring", "encodestring-crlf"], ids=lambda name: name
)
@fuzz_settings(30)
@given(secret=SECRET_TEXT)
def test_a_well_encoded_password_reads_back_as_it_was(encoding: str, secret: str) -> None:
    value = {"username": "svc", "password": ENCODINGS[encoding](secret)}
    credential = run_in_process(value)
    assert isinstance(credential, SafeCredential)
    assert credential.password.get_secret_value() == secret
    assert credential.to_safe_dict()["password"] == b64(secret)


# -- through a real worker ----------------------------------------------------------------------


def literal_friendly(returned: tuple[object, Planted]) -> bool:
    """A value ``repr`` writes as a Python literal (nan and inf are names, not literals)."""

    def friendly(value: object) -> bool:
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, dict):
            return all(friendly(k) and friendly(v) for k, v in value.items())
        if isinstance(value, list | tuple | set):
            return all(friendly(item) for item in value)
        return True

    return friendly(returned[0])


@pytest.fixture
def script_provider(home: Path) -> Iterator[tuple[CustomScriptProvider, Path]]:
    settings = CustomScriptSettings(workers=1, timeout=10)
    provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
    directory = home / "integrations" / "custom" / "thycotic"
    directory.mkdir(parents=True, mode=0o700)
    yield provider, directory / SCRIPT_NAME
    provider.close()


def install(path: Path, body: str) -> None:
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o600)


def lookup(provider: CustomScriptProvider) -> SafeCredential | ScriptError | None:
    try:
        return provider.credchain_lookup(AssetQuery(asset_name="web-01"))
    except ScriptError as exc:
        return exc


@fuzz_settings(12)
@given(script_returns().filter(literal_friendly))
def test_a_real_worker_gives_a_credential_not_here_or_a_script_error(
    script_provider: tuple[CustomScriptProvider, Path], returned: tuple[object, Planted]
) -> None:
    provider, path = script_provider
    value, planted = returned
    source = f"def get_password_from_thycotic(query_data):\n    return {value!r}\n"
    install(path, source)
    outcome = lookup(provider)
    check_outcome(outcome, planted)
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SCRIPT:
        assert isinstance(outcome, ScriptError) and "larger than 1 MiB" in str(outcome)
        return
    in_process = run_in_process(value)
    assert type(outcome) is type(in_process)
    if isinstance(outcome, ScriptError) and str(in_process) != "over the message limit":
        assert str(outcome) == str(in_process).replace(str(SCRIPT), str(path))


def test_a_reply_over_the_message_limit_is_a_script_error(
    script_provider: tuple[CustomScriptProvider, Path],
) -> None:
    provider, path = script_provider
    install(
        path,
        f"""
        import base64

        def get_password_from_thycotic(query_data):
            secret = "{MARK}" + "x" * {MAX_MESSAGE}
            return {{"username": "svc", "password": base64.b64encode(secret.encode()).decode()}}
        """,
    )
    outcome = lookup(provider)
    assert isinstance(outcome, ScriptError) and "invalid reply" in str(outcome)
    assert MARK not in str(outcome)
