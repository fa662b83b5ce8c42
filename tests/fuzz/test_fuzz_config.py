"""Fuzzing the config file: any document loads, or is a ``ConfigError`` naming the file and key.

Generated documents (TOML written from generated dicts, and raw generated text) go through
``load_config`` and ``Resolver.from_config`` with chains of the first-party providers and
generated settings tables: the result is a ``Resolver``, or a ``ConfigError`` (naming the file
and, for a setting, the key) or ``PluginLoadError`` (naming the provider); never another
exception, and never a secret in the message. ``credchain status`` and ``credchain test`` on the
same documents end without a traceback.

Every URL a generated setting can hold is loopback or invalid; ``conftest.loopback_only``
refuses any other name anyway.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from fuzz_helpers import (
    CONTROLS,
    PLAIN_TEXT,
    WORDS,
    assert_clean_exit,
    fuzz_settings,
    fuzz_timeout,
    huge_text,
    nested,
)
from hypothesis import given
from hypothesis import strategies as st

from credchain import Resolver
from credchain.cli import main
from credchain.config import MAX_CONFIG_BYTES, load_config
from credchain.errors import ConfigError, PluginLoadError
from credchain.secretstore import SecretStore
from credchain.testing.secrets import assert_no_secrets

pytestmark = fuzz_timeout(90)

PLANTED = "planted-Cfg-4d7a"  # every secret setting holds this, plain or encrypted
PLANTED_ENV = "planted-Env-b03f"
ENVIRON = {"FUZZ_PASSWORD": PLANTED_ENV, "FUZZ_EMPTY": ""}
ENCRYPTED = "<the home's encryption of PLANTED>"  # replaced by the real value in each home
SECRETS = [PLANTED, PLANTED_ENV]

# -- TOML values --------------------------------------------------------------------------------

TOML_CHARACTERS = st.one_of(
    st.characters(exclude_categories=["Cs"]), CONTROLS
)  # no surrogates in TOML
TOML_TEXT = st.one_of(
    *[st.one_of(WORDS, PLAIN_TEXT, st.text(TOML_CHARACTERS, max_size=24))] * 9,
    huge_text(max_size=100_000, alphabet=TOML_CHARACTERS),
)
TOML_SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(),
    TOML_TEXT,
    st.datetimes(),
    st.dates(),
    st.times(),
)
TOML_VALUES = st.recursive(
    TOML_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(TOML_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)


def usually(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes any TOML value."""
    return st.one_of(plausible, plausible, plausible, TOML_VALUES)


URLS = st.one_of(
    st.sampled_from(
        [
            "https://127.0.0.1:9",
            "https://localhost:9/SecretServer",
            "http://127.0.0.1:9",
            "https://[::1]:9",
            "https://127.0.0.1",
            "https://127.0.0.1:99999",
            "https://127.0.0.1:0",
            "https://127.0.0.1:9?q=1",
            "https://127.0.0.1:x",
            "https://[::1",
            "ftp://127.0.0.1",
            "https://",
            "127.0.0.1:9",
        ]
    ),
    TOML_TEXT.filter(lambda text: "/" not in text and "\\" not in text),
)
SECRET_VALUES = st.sampled_from([PLANTED, PLANTED + "\n", ENCRYPTED, "enc:" + PLANTED, ""])
ENV_NAMES = usually(st.sampled_from(["FUZZ_PASSWORD", "FUZZ_EMPTY", "FUZZ_UNSET"]))
NUMBERS = st.one_of(st.integers(-5, 70_000), st.floats(allow_nan=True, allow_infinity=True))
FINGERPRINT = "ab" * 32
FILES = st.sampled_from(
    [
        *("mapping.json", "bad-mapping.json", "missing.json", "ca.pem", "", ".", "sub/"),
        *("~nosuchuser-credchain/m.json", "~/m.json", "a\x00b.json", "/nonexistent/ca.pem"),
    ]
)

MAPPING_TABLE = st.fixed_dictionaries(
    {},
    optional={
        "safe_field": usually(st.sampled_from(["asset_name", "ip_address", "cmdb_id", "fqdn"])),
        "thycotic_field": usually(st.sampled_from(["Secret Name", "Machine", ""])),
        "username_field": usually(st.sampled_from(["username", ""])),
        "password_field": usually(st.sampled_from(["password", ""])),
        "privilege_password_field": usually(st.sampled_from(["Privilege Password"])),
    },
)

THYCOTIC = {
    "url": usually(URLS),
    "username": usually(PLAIN_TEXT),
    "password": usually(SECRET_VALUES),
}
THYCOTIC_OPTIONAL = {
    "password_env": ENV_NAMES,
    "auth_path": usually(PLAIN_TEXT),
    "secrets_path": usually(PLAIN_TEXT),
    "port": usually(NUMBERS),
    "grant": usually(st.sampled_from(["password", "client_credentials", "implicit"])),
    "domain": usually(PLAIN_TEXT),
    "client_id": usually(PLAIN_TEXT),
    "client_secret": usually(SECRET_VALUES),
    "client_secret_env": ENV_NAMES,
    "verify_ssl": usually(st.booleans()),
    "fingerprint_sha256": usually(st.sampled_from([FINGERPRINT, FINGERPRINT.upper(), "ab:cd"])),
    "ca_bundle": usually(FILES),
    "allow_http": usually(st.booleans()),
    "comment": usually(PLAIN_TEXT),
    "multiple_matches": usually(st.sampled_from(["error", "first", "last"])),
    "exact_match": usually(st.booleans()),
    "mapping": usually(MAPPING_TABLE),
    "mapping_file": usually(FILES),
    "connect_timeout": usually(NUMBERS),
    "read_timeout": usually(NUMBERS),
    "pool_size": usually(NUMBERS),
    "retries": usually(st.integers(-1, 11)),
    "token_margin": usually(NUMBERS),
    "token_cache": usually(st.booleans()),
}
CUSTOM_SCRIPT_OPTIONAL = {
    "script": usually(st.one_of(st.sampled_from(["thycotic_script.py", "other.py"]), FILES)),
    "workers": usually(NUMBERS),
    "timeout": usually(NUMBERS),
    "pass_environment": usually(st.lists(st.sampled_from(["FUZZ_PASSWORD", "LANG", ""]))),
}
DOMAINS = st.lists(st.sampled_from(["CORP", "corp.example.com", "LAB", "", " , "]), max_size=3)
DOMAIN_FALLBACK_OPTIONAL = {
    "domains": usually(st.one_of(DOMAINS, st.sampled_from(["CORP, LAB", "", ","]))),
    "domain_field": usually(st.sampled_from(["Domain", ""])),
    "machine_field": usually(st.sampled_from(["Machine", ""])),
    "default_domain": usually(st.sampled_from(["CORP", "corp", "NOPE", ""])),
    "fallback_to_local": usually(st.booleans()),
    "username": usually(st.sampled_from(["svc-scan", "CORP\\svc", "svc@corp", " "])),
    "organization": usually(st.one_of(st.integers(), st.sampled_from(["\\Scan Accounts", "\\"]))),
    "domain_map": usually(
        st.dictionaries(
            st.sampled_from(["corp.example.com", ".", ""]), st.sampled_from(["CORP", "a.b", ""])
        )
    ),
    "qualify_username": usually(st.booleans()),
    "username_field": usually(st.sampled_from(["Username", ""])),
    "password_field": usually(st.sampled_from(["Password", ""])),
    "privilege_password_field": usually(st.sampled_from(["Privilege Password", ""])),
}
ENTRY_OPTIONAL = {"on_error": usually(st.sampled_from(["next", "stop", "retry"]))}
KINDS = ("thycotic", "custom-script", "domain-fallback", "nosuch")
ENTRY_NAMES = st.one_of(
    st.sampled_from(["primary", "dr", "script", "windows", *KINDS]), PLAIN_TEXT, TOML_TEXT
)


def entry_table(kind: str, names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    unknown = {"unknown_setting": TOML_VALUES}
    if kind == "thycotic":
        required, optional = THYCOTIC, THYCOTIC_OPTIONAL
    elif kind == "custom-script":
        required, optional = {}, CUSTOM_SCRIPT_OPTIONAL
    elif kind == "domain-fallback":
        connection = st.sampled_from(names) if names else TOML_TEXT
        required, optional = {"connection": usually(connection)}, DOMAIN_FALLBACK_OPTIONAL
    else:
        required, optional = {}, {}
    return st.fixed_dictionaries(
        {"type": usually(st.just(kind)), **required},
        optional={**ENTRY_OPTIONAL, **optional, **unknown},
    )


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A config document: a chain of entries of the first-party types, mostly well formed."""
    names = draw(st.lists(ENTRY_NAMES, max_size=4, unique=True))
    providers: dict[str, Any] = {}
    for name in names:
        kind = draw(st.sampled_from(KINDS))
        providers[name] = draw(entry_table(kind, [n for n in names if n != name]))
    chain = draw(
        usually(st.lists(st.one_of(*[st.sampled_from(names)] * 3 if names else (), ENTRY_NAMES)))
    )
    document: dict[str, Any] = {"chain": chain, "providers": draw(usually(st.just(providers)))}
    if draw(st.booleans()):
        document["enabled"] = draw(usually(st.booleans()))
    if draw(st.integers(0, 9)) == 0:
        document[draw(TOML_TEXT)] = draw(TOML_VALUES)
    return document


# -- raw TOML text ------------------------------------------------------------------------------

TOML_PIECES = st.sampled_from(
    [
        *("\n", "\r\n", " ", "=", ",", ".", "[", "]", "[[", "]]", "{", "}", '"', "'", '"""'),
        *("chain", "enabled", "providers", "type", "url", "password_env", "true", "nan", "-inf"),
        *("1979-05-27T07:32:00Z", "0x7f", "1_000", "\\u0000", "\\", "#", "\x00", "\ufeff"),
        *('chain = ["a"]\n', "[providers.a]\n", 'type = "thycotic"\n', "\ud800"),
    ]
)
RAW_TOML = st.lists(st.one_of(TOML_PIECES, st.text(max_size=8)), max_size=40).map("".join)
#: TOML that makes tomllib raise what is not a TOMLDecodeError (RecursionError, ValueError)
HOSTILE_TOML = st.one_of(
    st.integers(1_000, 20_000).map(lambda depth: "chain = " + nested(depth)),
    st.integers(1_000, 20_000).map(lambda depth: "a = " + "{b = " * depth + "1" + "}" * depth),
    st.integers(5_000, 20_000).map(lambda digits: "enabled = " + "9" * digits),
)


# -- the checks ---------------------------------------------------------------------------------


def materialize(value: Any, encrypted: str) -> Any:
    """``value`` with the ``ENCRYPTED`` placeholder replaced by ``encrypted``."""
    if value == ENCRYPTED:
        return encrypted
    if isinstance(value, dict):
        return {key: materialize(item, encrypted) for key, item in value.items()}
    if isinstance(value, list):
        return [materialize(item, encrypted) for item in value]
    return value


class Home:
    """A home with a secret key, a mapping file, a broken one and a CA file in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config = path / "credchain.toml"
        self.encrypted = SecretStore(path).encrypt(PLANTED)
        (path / "mapping.json").write_text('{"safeFieldName": "ip_address"}')
        (path / "bad-mapping.json").write_text('{"extendedFields": 7}')
        (path / "ca.pem").write_text("not a certificate\n")
        (path / "sub").mkdir()

    def write(self, data: bytes | dict[str, Any]) -> Path:
        if isinstance(data, dict):
            data = tomli_w.dumps(materialize(data, self.encrypted)).encode()
        self.config.write_bytes(data)
        self.config.chmod(0o600)
        return self.config


@pytest.fixture
def fuzz_home(home: Path) -> Home:
    return Home(home)


def check_error(error: ConfigError | PluginLoadError, config: Path, *, from_dict: bool) -> None:
    """A documented error that says where: the file (and the key), or the provider."""
    message = str(error)
    assert_no_secrets(message, SECRETS)
    if isinstance(error, PluginLoadError):
        assert error.name and repr(error.name) in message
        return
    assert error.path is not None
    assert message.startswith(f"{error.path}: ") or message.startswith(f"{error.path}, key ")
    if error.path != str(config):  # the mapping file a setting names
        assert Path(error.path).parent == config.parent, error.path
        return
    if from_dict and "is larger than" not in message:
        assert error.key is not None, message  # "" is a TOML key too (ConfigError omits it)


def load_error(config: Path) -> ConfigError | None:
    try:
        load_config(config, environ=ENVIRON)
    except ConfigError as exc:
        return exc
    return None


def build(config: Path, *, from_dict: bool) -> None:
    try:
        with Resolver.from_config(config, environ=ENVIRON) as resolver:
            assert isinstance(resolver, Resolver) and resolver.chain
            for entry in resolver.chain:
                assert_no_secrets(repr(entry.provider), SECRETS)
    except (ConfigError, PluginLoadError) as exc:
        check_error(exc, config, from_dict=from_dict)


@fuzz_settings(150)
@given(documents())
def test_a_generated_config_builds_a_resolver_or_names_the_file_and_key(
    fuzz_home: Home, document: dict[str, Any]
) -> None:
    build(fuzz_home.write(bounded_retries(document, cli=False)), from_dict=True)


@fuzz_settings(150)
@given(st.one_of(RAW_TOML, RAW_TOML, HOSTILE_TOML, st.binary(max_size=64).map(repr)))
def test_raw_text_loads_or_is_a_config_error_naming_the_file(fuzz_home: Home, text: str) -> None:
    config = fuzz_home.write(text.encode("utf-8", "surrogatepass"))
    error = load_error(config)
    assert error is None or (error.path == str(config) and str(error).startswith(f"{config}"))
    build(config, from_dict=False)


@fuzz_settings(40)
@given(st.binary(max_size=200))
def test_raw_bytes_load_or_are_a_config_error_naming_the_file(fuzz_home: Home, data: bytes) -> None:
    config = fuzz_home.write(data)
    error = load_error(config)
    assert error is None or error.path == str(config)


@pytest.mark.parametrize(
    "text",
    [
        "chain = " + nested(5_000),
        "a = " + "{b = " * 5_000 + "1" + "}" * 5_000,
        "enabled = " + "9" * 5_000,
    ],
    ids=["deep-array", "deep-table", "digits"],
)
def test_toml_that_tomllib_cannot_take_is_a_config_error_naming_the_file(
    fuzz_home: Home, text: str
) -> None:
    config = fuzz_home.write(text.encode())
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(config, environ=ENVIRON)
    assert caught.value.path == str(config)


def test_a_mapping_file_named_with_a_nul_byte_is_a_config_error_naming_it(
    fuzz_home: Home,
) -> None:
    document = {
        "chain": ["vault"],
        "providers": {
            "vault": {
                "type": "thycotic",
                "url": "https://127.0.0.1:9",
                "username": "u",
                "password": PLANTED,
                "mapping_file": "thycotic\x00mapping.json",
            }
        },
    }
    config = fuzz_home.write(document)
    with pytest.raises(ConfigError, match=r"mapping_file.*NUL") as caught:
        Resolver.from_config(config, environ=ENVIRON)
    assert caught.value.path == str(config)
    assert_no_secrets(str(caught.value), SECRETS)


def test_a_config_over_the_size_limit_is_refused_by_name(fuzz_home: Home) -> None:
    config = fuzz_home.write(b"#" * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_config(config, environ=ENVIRON)


# -- defects the fuzzing found, each pinned by an example ---------------------------------------


def bounded_retries(document: dict[str, Any], *, cli: bool) -> dict[str, Any]:
    """``document`` with at most one retry per entry: ``credchain test`` logs in for real, to a
    closed port, and urllib3's backoff would only slow the examples down."""
    providers = document.get("providers")
    for table in providers.values() if isinstance(providers, dict) else ():
        if cli and isinstance(table, dict) and isinstance(table.get("retries"), int):
            table["retries"] = min(table["retries"], 1)
    return document


def thycotic_entry(**settings: Any) -> dict[str, Any]:
    table = {"type": "thycotic", "url": "https://127.0.0.1:9", "username": "u", "retries": 0}
    return {"chain": ["vault"], "providers": {"vault": {**table, "password": PLANTED, **settings}}}


def test_a_mapping_file_under_an_unknown_users_home_is_a_config_error(fuzz_home: Home) -> None:
    config = fuzz_home.write(thycotic_entry(mapping_file="~nosuchuser-credchain/m.json"))
    with pytest.raises(ConfigError, match="mapping_file"):
        Resolver.from_config(config, environ=ENVIRON)


def test_a_script_under_an_unknown_users_home_is_a_config_error(fuzz_home: Home) -> None:
    document = {
        "chain": ["script"],
        "providers": {"script": {"type": "custom-script", "script": "~nosuchuser-credchain/s.py"}},
    }
    config = fuzz_home.write(document)
    with pytest.raises(ConfigError, match="script"):
        Resolver.from_config(config, environ=ENVIRON)


def test_status_shows_a_script_under_an_unknown_users_home(fuzz_home: Home) -> None:
    document = {
        "chain": ["script"],
        "providers": {"script": {"type": "custom-script", "script": "~nosuchuser-credchain/s"}},
    }
    result = CliRunner().invoke(main, ["status", "--config", str(fuzz_home.write(document))])
    assert_clean_exit(result, (0, 1))


@pytest.mark.parametrize("chain", [True, 5, 1.5], ids=["bool", "int", "float"])
def test_status_shows_a_chain_that_is_not_a_list(fuzz_home: Home, chain: object) -> None:
    config = fuzz_home.write({"chain": chain})
    result = CliRunner().invoke(main, ["status", "--config", str(config)])
    assert_clean_exit(result, (0, 1))


def test_status_shows_domains_that_are_not_all_text(fuzz_home: Home) -> None:
    document = thycotic_entry()
    document["chain"] = ["windows"]
    document["providers"]["windows"] = {
        "type": "domain-fallback",
        "connection": "vault",
        "domains": ["CORP", 7],
    }
    result = CliRunner().invoke(main, ["status", "--config", str(fuzz_home.write(document))])
    assert_clean_exit(result, (0, 1))


@pytest.mark.parametrize("ca_bundle", ["/nonexistent/ca.pem", "ca.pem", "sub/"])
def test_credchain_test_names_a_ca_bundle_that_is_not_there(
    fuzz_home: Home, ca_bundle: str
) -> None:
    config = fuzz_home.write(thycotic_entry(ca_bundle=ca_bundle))
    result = CliRunner().invoke(main, ["test", "--config", str(config), "--asset-name", "web-01"])
    assert_clean_exit(result, (1,))
    assert "ca_bundle" in result.output


@pytest.mark.parametrize("timeout", [float("inf"), 1e10])
def test_a_timeout_too_long_for_a_socket_is_a_config_error(fuzz_home: Home, timeout: float) -> None:
    config = fuzz_home.write(thycotic_entry(connect_timeout=timeout))
    with pytest.raises(ConfigError, match="connect_timeout"):
        Resolver.from_config(config, environ=ENVIRON)


@pytest.mark.parametrize(
    "text", ["chain = " + nested(5_000), "enabled = " + "9" * 5_000], ids=["deep", "digits"]
)
@pytest.mark.parametrize("command", ["status", "test", "enable"])
def test_admin_commands_name_toml_that_tomllib_cannot_take(
    fuzz_home: Home, command: str, text: str
) -> None:
    config = fuzz_home.write(text.encode())
    result = CliRunner().invoke(main, [command, "--config", str(config)])
    assert_clean_exit(result, (1,))
    assert "not valid TOML" in result.output


# -- through the CLI ----------------------------------------------------------------------------


@fuzz_settings(40)
@given(st.one_of(documents().map(lambda document: bounded_retries(document, cli=True)), RAW_TOML))
def test_status_and_test_end_without_a_traceback(
    fuzz_home: Home, document: dict[str, Any] | str
) -> None:
    if isinstance(document, str):
        config = fuzz_home.write(document.encode("utf-8", "surrogatepass"))
    else:
        config = fuzz_home.write(document)
    runner = CliRunner(env=ENVIRON)
    status = runner.invoke(main, ["status", "--config", str(config)])
    assert_clean_exit(status, (0, 1))
    status_json = runner.invoke(main, ["status", "--json", "--config", str(config)])
    assert_clean_exit(status_json, (0, 1))
    if status_json.exit_code == 0:
        json.loads(status_json.stdout)
    tested = runner.invoke(main, ["test", "--config", str(config), "--asset-name", "web-01"])
    assert_clean_exit(tested, (0, 1, 2, 3))
    for result in (status, status_json, tested):
        assert_no_secrets(result.output, SECRETS)
