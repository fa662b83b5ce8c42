"""Lab credentials from environment variables ({PREFIX}_{KEY}_USERNAME and _PASSWORD).

Everything comes from the front door, ``credchain.provider``. Besides the hooks it implements
two optional protocols, so ``credchain status`` and ``credchain test`` show it as they show the
first-party providers, and it adds a command of its own (``credchain envvars``, in ``cli``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from credchain.provider import (
    AssetQuery,
    Provider,
    ProviderError,
    ProviderSettings,
    SafeCredential,
    hookimpl,
    note,
)

__all__ = ["EnvVarsProvider", "EnvVarsSettings", "lab_keys", "variable_key"]

DEFAULT_PREFIX = "LAB_CRED"


class EnvVarsSettings(ProviderSettings):
    prefix: str = DEFAULT_PREFIX
    fallback_default: bool = False


def variable_key(value: str) -> str:
    """The part of a variable name that stands for an asset: ``web-01.lab`` -> ``WEB_01_LAB``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()


def lab_keys(environ: Mapping[str, str], prefix: str) -> list[str]:
    """The asset keys that have a username variable under ``prefix``, sorted."""
    start, end = f"{prefix}_", "_USERNAME"
    return sorted(
        name[len(start) : -len(end)]
        for name in environ
        if name.startswith(start) and name.endswith(end) and len(name) > len(start) + len(end)
    )


class EnvVarsProvider(Provider[EnvVarsSettings]):
    """Lab credentials from environment variables, per asset or a default."""

    Settings = EnvVarsSettings

    @classmethod
    def describe(cls, table: Mapping[str, Any], home: Path) -> str:
        """What ``credchain status`` shows for an entry (``Describes``)."""
        return f"variables {table.get('prefix', DEFAULT_PREFIX)}_<KEY>_*"

    def check(self) -> str:
        """What ``credchain test`` checks (``Checks``): some asset has variables."""
        keys = lab_keys(self.context.environ, self.settings.prefix)
        if not keys:
            raise ProviderError(f"no {self.settings.prefix}_<KEY>_USERNAME variable is set")
        return f"{len(keys)} asset(s) with {self.settings.prefix}_* variables"

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
