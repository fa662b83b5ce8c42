"""Reuse credchain's stored Secret Server configuration from a custom script (seed 000 §3, 2.2).

A script with its own selection rules needs only those rules::

    from credchain_custom_script.api import NotFound, read_credential, search_asset

    def get_password_from_thycotic(query_data):
        for secret in search_asset(query_data):          # the configured mapping's search
            if secret.template == "Scan Accounts":
                return read_credential(secret)           # the mapped fields, as a SAFE dict
        raise NotFound

``read_credential`` reads a secret the way the Thycotic provider does: the values the search
returned, else one ``GET secrets/{id}`` (with the configured ``comment`` when one is required).

The Thycotic entry used is ``name`` if given, else the first entry of type ``thycotic`` in the
chain, else the first ``[providers.*]`` table of that type (configured with ``credchain add`` but
left out of the chain, as SAFE admins who write their own script do). The configuration is the
one the scanner's resolver loaded (the worker is told where it is) and is read once per worker;
the client, its session and its token are shared by every call the worker makes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping as AnyMapping

from credchain.config import load_config
from credchain.errors import ConfigError
from credchain.models import AssetQuery, encode_base64
from credchain.plugins import build_provider
from credchain.provider import ProviderContext
from credchain_custom_script.notfound import NotFound
from credchain_thycotic import SecretServerClient, ThycoticProvider, ThycoticSettings
from credchain_thycotic.client import SecretRecord, SecretSummary
from credchain_thycotic.mapping import Mapping

__all__ = [
    "Mapping",
    "NotFound",
    "SecretRecord",
    "SecretSummary",
    "default_lookup",
    "mapping",
    "read_credential",
    "safe_dict",
    "search_asset",
    "thycotic_client",
    "thycotic_settings",
]

THYCOTIC = "thycotic"
_lock = threading.Lock()
_providers: dict[str | None, ThycoticProvider] = {}


def _provider(name: str | None) -> ThycoticProvider:
    with _lock:
        provider = _providers.get(name)
        if provider is None:
            provider = _providers[name] = _build(name)
        return provider


def _build(name: str | None) -> ThycoticProvider:
    config = load_config()
    where = str(config.path)
    if name is None:
        candidates = [*config.chain, *(n for n in config.providers if n not in config.chain)]
        name = next((n for n in candidates if config.entry(n).type == THYCOTIC), None)
        if name is None:
            raise ConfigError(
                "no Thycotic configuration to reuse: add one with 'credchain add'", path=where
            )
    entry = config.entry(name)
    if entry.type != THYCOTIC:
        raise ConfigError(f"entry {name!r} is of type {entry.type!r}, not {THYCOTIC!r}", path=where)
    context = ProviderContext(entry=name, home=config.home, config=config)
    provider = build_provider(entry, ThycoticProvider, context, config_path=where)
    assert isinstance(provider, ThycoticProvider)
    return provider


def thycotic_settings(name: str | None = None) -> ThycoticSettings:
    """The stored settings of the Thycotic entry (URL, paths, TLS; secrets are ``SecretStr``)."""
    return _provider(name).settings


def thycotic_client(name: str | None = None) -> SecretServerClient:
    """A logged-in client for the configured Secret Server (``search``, ``get_secret``, ``call``).

    Raises ``ProviderError``/``ProviderUnavailable`` when the login fails or the server is down.
    """
    client = _provider(name).client
    client.token()
    return client


def mapping(name: str | None = None) -> Mapping:
    """The configured field mapping (``thycotic_mapping.json`` or the entry's ``mapping``)."""
    return _provider(name).mapping


def search_asset(
    query_data: AnyMapping[str, str | None], *, name: str | None = None, take: int = 10
) -> list[SecretSummary]:
    """The secrets that match the asset by the configured mapping, with its fields' values.

    An empty list when ``query_data`` has no value for the mapping's SAFE field.
    """
    provider = _provider(name)
    if not query_data.get(provider.mapping.safe_field):
        return []
    return provider.search(_query(query_data), take=take)


def read_credential(secret: SecretSummary, *, name: str | None = None) -> dict[str, str]:
    """The SAFE dict of ``secret`` (from ``search_asset``), read by the configured mapping.

    Raises ``NotFound`` when the secret has no username or password value.
    """
    values = _provider(name).read(secret)
    return safe_dict(values.username, values.password, values.privilege_password)


def _query(query_data: AnyMapping[str, str | None]) -> AssetQuery:
    return AssetQuery.from_query_data(
        {key: query_data.get(key) for key in ("asset_name", "ip_address", "cmdb_id")}
    )


def default_lookup(
    query_data: AnyMapping[str, str | None], *, name: str | None = None
) -> dict[str, str] | None:
    """What the Thycotic provider itself would answer, as a SAFE dict, or ``None``.

    Lets a script apply its own rules first and fall back to the standard lookup.
    """
    provider = _provider(name)
    record = provider.credchain_lookup(_query(query_data), provider.credchain_authenticate())
    if record is None:
        return None
    return provider.credchain_extract_credentials(record).to_safe_dict()


def safe_dict(
    username: str | None, password: str | None, privilege_password: str | None = None
) -> dict[str, str]:
    """The SAFE dict of plain-text values (passwords base64-encoded); ``NotFound`` if incomplete."""
    if not username or not password:
        raise NotFound("the secret has no username or no password")
    result = {"username": username, "password": encode_base64(password)}
    if privilege_password:
        result["privilegePassword"] = encode_base64(privilege_password)
    return result


def _reset() -> None:
    """Forget the clients (tests; a worker reads the configuration once)."""
    with _lock:
        for provider in _providers.values():
            provider.close()
        _providers.clear()
