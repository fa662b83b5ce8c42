"""The admin's configuration: one TOML file naming the ordered chain and each entry's settings.

Where it is found, first match wins:

1. the path given (``--config``);
2. the ``CREDCHAIN_CONFIG`` environment variable;
3. ``credchain.toml`` in the home.

The home is ``CREDCHAIN_HOME`` if set; else the directory of a config given by 1 or 2; else the
platform's user config directory (``~/.config/credchain`` on Linux). It holds the secret key,
caches and the custom scripts directory ``integrations/custom/thycotic/``.

```toml
enabled = true
chain = ["primary", "script"]

[providers.primary]
type = "thycotic"          # entry-point name; defaults to the table's name
on_error = "next"          # "next" or "stop"; default: unavailable -> next, error -> stop
url = "https://vault.example.com"
username = "svc-credchain"
password = "enc:gAAAA..."  # or password_env = "VAULT_PASSWORD", or plain (warned about)
```

A setting ``KEY_env = "VAR"`` takes ``KEY`` from the environment variable ``VAR``; a string
value starting with ``enc:`` is decrypted with the home's secret store. Errors name the file and
the key. An entry with ``on_error = "next"`` whose values cannot be resolved (an unset variable,
an ``enc:`` value that does not decrypt) does not fail the load: its ``EntryConfig.problem``
carries the error, raised when the entry is built, so the rest of the chain still loads.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from credchain.errors import ConfigError, SecretStoreError
from credchain.files import read_text_capped
from credchain.home import CONFIG_FILE, default_home
from credchain.secretstore import SecretStore

__all__ = [
    "Config",
    "EntryConfig",
    "OnError",
    "find_config",
    "load_config",
    "parse_config",
    "parse_toml",
    "settings_error",
]

MAX_CONFIG_BYTES = 1024 * 1024  # a config is a few KiB; more is not a config file
OnError = Literal["next", "stop"]
_TOP_LEVEL = {"enabled", "chain", "providers", "agent", "cache"}
_ENTRY_KEYS = {"type", "on_error"}


@dataclass(frozen=True)
class EntryConfig:
    """One ``[providers.NAME]`` table, with ``_env`` and ``enc:`` values already resolved."""

    name: str
    type: str
    on_error: OnError | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: settings given as plain text in the file (checked against the provider's secret fields)
    plain_keys: frozenset[str] = frozenset()
    #: why the settings could not be resolved (``on_error = "next"`` only; settings are empty)
    problem: ConfigError | None = None

    def __repr__(self) -> str:
        # Settings hold decrypted and environment values: their names only, never a value.
        on_error = f", on_error={self.on_error!r}" if self.on_error else ""
        names = ", ".join(self.settings)
        return f"EntryConfig(name={self.name!r}, type={self.type!r}{on_error}, settings=<{names}>)"


@dataclass(frozen=True)
class Config:
    """A loaded configuration."""

    path: Path | None
    home: Path
    enabled: bool = True
    chain: tuple[str, ...] = ()
    providers: Mapping[str, EntryConfig] = field(default_factory=dict)
    #: the ``[agent]`` table, values resolved like an entry's (``credchain.agent.settings``)
    agent: Mapping[str, Any] = field(default_factory=dict)
    #: the ``[cache]`` table, values resolved like an entry's (``credchain.cache``)
    cache: Mapping[str, Any] = field(default_factory=dict)
    #: keys of ``[cache]`` given as plain text in the file
    cache_plain_keys: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        providers = ", ".join(f"{name!r}: {entry!r}" for name, entry in self.providers.items())
        return (
            f"Config(path={self.path!r}, home={self.home!r}, enabled={self.enabled!r}, "
            f"chain={self.chain!r}, providers={{{providers}}})"
        )

    def entry(self, name: str) -> EntryConfig:
        """The table of ``name``; a chain name with no table is an entry of that type."""
        return self.providers.get(name) or EntryConfig(name=name, type=name)

    @property
    def file_is_shared(self) -> bool:
        return self.path is not None and bool(self.path.stat().st_mode & 0o044)


def settings_error(
    exc: ValidationError, *, key: str, path: str | None = None, kind: str | None = None
) -> ConfigError:
    """The first problem of a settings table's ``ValidationError``, as a ``ConfigError``.

    ``key`` is where the table is (``providers.NAME``); the error names the setting below it.
    ``kind`` (the provider type) words the message for an unknown setting.
    """
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown setting" + (f" for provider type {kind!r}" if kind else "")
    return ConfigError(message, path=path, key=f"{key}.{loc}" if loc else key)


def find_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, Path]:
    """Return ``(config path, home)`` by the rules in the module docstring."""
    env = os.environ if environ is None else environ
    explicit = path if path is not None else env.get("CREDCHAIN_CONFIG") or None
    if explicit is not None:
        config_path = Path(explicit).expanduser()
        home = (
            Path(env["CREDCHAIN_HOME"]).expanduser()
            if env.get("CREDCHAIN_HOME")
            else (config_path.parent)
        )
        return config_path, home
    home = default_home(env)
    return home / CONFIG_FILE, home


def load_config(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read and check the configuration; raises ``ConfigError`` naming the file and key."""
    env = os.environ if environ is None else environ
    config_path, home = find_config(path, env)
    where = str(config_path)
    try:
        text = read_text_capped(config_path, MAX_CONFIG_BYTES, "the configuration")
    except FileNotFoundError:
        raise ConfigError(
            "no configuration file (run 'credchain add', or pass --config)", path=where
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=where) from None
    raw = parse_toml(text, path=where)
    return parse_config(raw, path=config_path, home=home, environ=env)


def parse_toml(text: str, *, path: str | None) -> dict[str, Any]:
    """The TOML document in ``text``; anything tomllib cannot read is a ``ConfigError``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError("not valid TOML: values nested too deeply", path=path) from None
    except ValueError:  # tomllib lets int()'s digit limit through as a bare ValueError
        raise ConfigError(
            f"not valid TOML: a number has more than {sys.get_int_max_str_digits()} digits",
            path=path,
        ) from None


def parse_config(
    raw: Mapping[str, Any],
    *,
    path: Path | None,
    home: Path,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Check an already-parsed TOML document (see ``load_config``)."""
    env = os.environ if environ is None else environ
    where = str(path) if path is not None else None
    for key in raw:
        if key not in _TOP_LEVEL:
            raise ConfigError(
                f"unknown top-level setting (expected one of {', '.join(sorted(_TOP_LEVEL))})",
                path=where,
                key=key,
            )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError("must be true or false", path=where, key="enabled")
    chain = raw.get("chain", [])
    if not isinstance(chain, list) or not all(isinstance(n, str) and n for n in chain):
        raise ConfigError("must be a list of provider entry names", path=where, key="chain")
    duplicates = sorted({name for name in chain if chain.count(name) > 1})
    if duplicates:
        raise ConfigError(f"{duplicates[0]!r} appears twice", path=where, key="chain")
    tables = raw.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError("must be a table of [providers.NAME]", path=where, key="providers")
    store = SecretStore(home)
    providers = {
        name: _parse_entry(name, table, where=where, environ=env, store=store)
        for name, table in tables.items()
    }
    agent = raw.get("agent", {})
    if not isinstance(agent, dict):
        raise ConfigError("must be a table", path=where, key="agent")
    agent = _resolve_values(
        agent, prefix="agent", relative="", where=where, environ=env, store=store, plain=set()
    )
    cache = raw.get("cache", {})
    if not isinstance(cache, dict):
        raise ConfigError("must be a table", path=where, key="cache")
    cache_plain: set[str] = set()
    cache = _resolve_values(
        cache, prefix="cache", relative="", where=where, environ=env, store=store, plain=cache_plain
    )
    return Config(
        path=path,
        home=home,
        enabled=enabled,
        chain=tuple(chain),
        providers=providers,
        agent=agent,
        cache=cache,
        cache_plain_keys=frozenset(cache_plain),
    )


def _parse_entry(
    name: str, table: object, *, where: str | None, environ: Mapping[str, str], store: SecretStore
) -> EntryConfig:
    prefix = f"providers.{name}"
    if not isinstance(table, dict):
        raise ConfigError("must be a table", path=where, key=prefix)
    entry_type = table.get("type", name)
    if not isinstance(entry_type, str) or not entry_type:
        raise ConfigError("must be a provider name", path=where, key=f"{prefix}.type")
    on_error = table.get("on_error")
    if on_error not in (None, "next", "stop"):
        raise ConfigError('must be "next" or "stop"', path=where, key=f"{prefix}.on_error")
    plain: set[str] = set()
    try:
        settings = _resolve_values(
            {k: v for k, v in table.items() if k not in _ENTRY_KEYS},
            prefix=prefix,
            relative="",
            where=where,
            environ=environ,
            store=store,
            plain=plain,
        )
    except ConfigError as exc:
        if on_error != "next":
            raise
        # One broken entry must not take the chain down: it is skipped when the chain is built.
        return EntryConfig(name=name, type=entry_type, on_error=on_error, problem=exc)
    return EntryConfig(
        name=name,
        type=entry_type,
        on_error=on_error,
        settings=settings,
        plain_keys=frozenset(plain),
    )


def _resolve_values(
    table: Mapping[str, Any],
    *,
    prefix: str,
    relative: str,
    where: str | None,
    environ: Mapping[str, str],
    store: SecretStore,
    plain: set[str],
) -> dict[str, Any]:
    """Replace ``KEY_env`` settings and ``enc:`` values by what they stand for."""
    resolved: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}.{key}"
        inner = f"{relative}{key}"
        if isinstance(value, dict):
            resolved[key] = _resolve_values(
                value,
                prefix=dotted,
                relative=f"{inner}.",
                where=where,
                environ=environ,
                store=store,
                plain=plain,
            )
        elif key.endswith("_env"):
            target = key.removesuffix("_env")
            if target in table:
                raise ConfigError(
                    f"give either {target!r} or {key!r}, not both", path=where, key=dotted
                )
            if not isinstance(value, str) or value not in environ:
                raise ConfigError(
                    f"environment variable {value!r} is not set", path=where, key=dotted
                )
            resolved[target] = environ[value]
        elif SecretStore.is_encrypted(value):
            try:
                resolved[key] = store.decrypt(value)
            except SecretStoreError as exc:
                raise ConfigError(str(exc), path=where, key=dotted) from None
        else:
            if isinstance(value, str):
                plain.add(inner)
            resolved[key] = value
    return resolved
