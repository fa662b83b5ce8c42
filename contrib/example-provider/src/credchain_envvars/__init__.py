"""Lab credentials from environment variables ({PREFIX}_{KEY}_USERNAME and _PASSWORD)."""

from __future__ import annotations

import re

from pydantic import SecretStr

from credchain import AssetQuery, SafeCredential
from credchain.hookspecs import hookimpl
from credchain.provider import Provider, ProviderSettings, note

__all__ = ["EnvVarsProvider", "EnvVarsSettings", "variable_key"]


class EnvVarsSettings(ProviderSettings):
    prefix: str = "LAB_CRED"
    fallback_default: bool = False


def variable_key(value: str) -> str:
    """The part of a variable name that stands for an asset: ``web-01.lab`` -> ``WEB_01_LAB``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()


class EnvVarsProvider(Provider[EnvVarsSettings]):
    """Lab credentials from environment variables, per asset or a default."""

    Settings = EnvVarsSettings

    def _keys(self, query: AssetQuery) -> list[str]:
        keys = [variable_key(v) for v in (query.asset_name, query.ip_address, query.cmdb_id) if v]
        if self.settings.fallback_default:
            keys.append("DEFAULT")
        return list(dict.fromkeys(key for key in keys if key))

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> str | None:
        environ = self.context.environ
        for key in self._keys(query):
            if f"{self.settings.prefix}_{key}_USERNAME" in environ:
                note(f"variables {self.settings.prefix}_{key}_*")
                return key
        note(f"no {self.settings.prefix}_<KEY>_USERNAME for keys {', '.join(self._keys(query))}")
        return None

    @hookimpl
    def credchain_extract_credentials(self, record: object) -> SafeCredential | None:
        environ = self.context.environ
        base = f"{self.settings.prefix}_{record}"
        password = environ.get(f"{base}_PASSWORD")
        if password is None:
            note(f"{base}_PASSWORD is not set")
            return None
        privilege = environ.get(f"{base}_PRIVILEGE_PASSWORD")
        return SafeCredential(
            username=environ[f"{base}_USERNAME"],
            password=SecretStr(password),
            privilege_password=None if privilege is None else SecretStr(privilege),
            detail=f"from {base}_*",
        )
