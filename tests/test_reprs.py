"""No repr or str shows a decrypted setting or the environment: config, context, providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from credchain import Resolver
from credchain.config import Config, EntryConfig, load_config
from credchain.provider import ProviderContext
from credchain.secretstore import SecretStore
from credchain.testing.secrets import assert_no_secrets

ENC_PASSWORD = "Canary-enc-Q4vR!7x"  # stored as enc:..., decrypted at load
ENV_PASSWORD = "Canary-env-W2nT#5y"  # taken from VAULT_DR_PASSWORD by password_env
ENV_ONLY = "Canary-environ-J8kP%3z"  # in the environment, used by no setting
CLIENT_SECRET = "Canary-client-M6bH&1q"  # a client_credentials secret, encrypted
CANARIES = [ENC_PASSWORD, ENV_PASSWORD, ENV_ONLY, CLIENT_SECRET]
ENVIRON = {"VAULT_DR_PASSWORD": ENV_PASSWORD, "SOME_TOKEN": ENV_ONLY, "PATH": "/usr/bin"}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A config whose vault passwords are encrypted or from the environment, never plain."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    store = SecretStore(home)
    script = home / "lookup.py"
    script.write_text("def get_password_from_thycotic(query_data):\n    return None\n")
    script.chmod(0o600)
    vault = {"url": "https://127.0.0.1:1", "username": "svc-credchain"}
    document = {
        "chain": ["primary", "dr", "client", "windows", "script"],
        "providers": {
            "primary": {"type": "thycotic", **vault, "password": store.encrypt(ENC_PASSWORD)},
            "dr": {"type": "thycotic", **vault, "password_env": "VAULT_DR_PASSWORD"},
            "client": {
                "type": "thycotic",
                "url": "https://127.0.0.1:1",
                "grant": "client_credentials",
                "client_id": "scanner-client",
                "client_secret": store.encrypt(CLIENT_SECRET),
            },
            "windows": {"type": "domain-fallback", "connection": "primary", "domains": ["CORP"]},
            "script": {"type": "custom-script", "script": str(script)},
        },
    }
    path = home / "credchain.toml"
    path.write_bytes(tomli_w.dumps(document).encode())
    path.chmod(0o600)
    return path


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path, environ=ENVIRON)


@pytest.fixture
def resolver(config_path: Path) -> Iterator[Resolver]:
    with Resolver.from_config(config_path, environ=ENVIRON) as built:
        yield built


def shown(*objects: object) -> str:
    """Everything a log line or a traceback could print of ``objects``."""
    return "\n".join(form for x in objects for form in (repr(x), str(x), f"{x!r}", f"{x}"))


def test_the_canaries_are_really_loaded(config: Config) -> None:
    # Without this, the tests below would pass on a config that lost its passwords.
    assert config.entry("primary").settings["password"] == ENC_PASSWORD
    assert config.entry("dr").settings["password"] == ENV_PASSWORD
    assert config.entry("client").settings["client_secret"] == CLIENT_SECRET


def test_entry_config_repr_shows_setting_names_only(config: Config) -> None:
    entry = config.entry("primary")
    assert repr(entry) == (
        "EntryConfig(name='primary', type='thycotic', settings=<url, username, password>)"
    )
    assert_no_secrets(shown(*config.providers.values()), CANARIES)


def test_entry_config_repr_shows_on_error_when_set() -> None:
    entry = EntryConfig("dr", "thycotic", on_error="next", settings={"password": ENC_PASSWORD})
    assert (
        repr(entry)
        == "EntryConfig(name='dr', type='thycotic', on_error='next', settings=<password>)"
    )


def test_config_repr_shows_no_setting_value(config: Config) -> None:
    text = shown(config)
    assert_no_secrets(text, CANARIES)
    assert "chain=('primary', 'dr', 'client', 'windows', 'script')" in text
    assert "settings=<url, username, password>" in text


def test_provider_context_repr_shows_neither_config_nor_environment(config: Config) -> None:
    context = ProviderContext("primary", config.home, config=config, environ=ENVIRON)
    text = shown(context)
    assert_no_secrets(text, CANARIES)
    assert "VAULT_DR_PASSWORD" not in text and "SOME_TOKEN" not in text
    assert repr(context) == f"ProviderContext(entry='primary', home={config.home!r})"


def test_built_providers_and_chain_entries_show_no_secret(resolver: Resolver) -> None:
    entries = resolver.chain
    assert [entry.type for entry in entries] == [
        "thycotic",
        "thycotic",
        "thycotic",
        "domain-fallback",
        "custom-script",
    ]
    providers = [entry.provider for entry in entries]
    # what each provider holds: settings, context, client, finder, connection, worker pool
    held = [value for p in providers for value in vars(p).values()]
    assert_no_secrets(shown(resolver, *entries, *providers, *held), CANARIES)


def test_provider_settings_mask_their_secret_fields(resolver: Resolver) -> None:
    primary, _, client = (entry.provider for entry in resolver.chain[:3])
    assert "password=SecretStr('**********')" in repr(getattr(primary, "settings", None))
    assert "client_secret=SecretStr('**********')" in repr(getattr(client, "settings", None))
