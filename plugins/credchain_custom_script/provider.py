"""The ``custom-script`` provider: the admin's ``get_password_from_thycotic(query_data)``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from credchain.errors import ConfigError, CredentialNotFound, ScriptError
from credchain.provider import (
    AssetQuery,
    Provider,
    ProviderContext,
    ProviderSettings,
    SafeCredential,
    Standalone,
    hookimpl,
    note,
)
from credchain_custom_script.checks import check_script, script_path
from credchain_custom_script.output import credential_from_reply
from credchain_custom_script.pool import WorkerPool

__all__ = ["CustomScriptProvider", "CustomScriptSettings"]


class CustomScriptSettings(ProviderSettings):
    #: the script; relative paths are in ``integrations/custom/thycotic/`` of the home
    script: Path | None = None
    #: worker processes kept running for the script (calls beyond this wait for one)
    workers: int = Field(default=2, ge=1, le=64)
    #: seconds one call may take before its worker is killed and the lookup fails
    timeout: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    #: environment variables passed to the workers besides the minimal set (docs/custom-script.md)
    pass_environment: tuple[str, ...] = ()

    @field_validator("script")
    @classmethod
    def _no_nul(cls, value: Path | None) -> Path | None:
        if value is not None and "\x00" in str(value):
            raise ValueError("must not contain a NUL byte")
        return value


class CustomScriptProvider(Provider[CustomScriptSettings]):
    """The admin's own script: get_password_from_thycotic(query_data), in worker processes.

    Implements ``Describes``, ``StandsAlone`` and ``Checks`` (``credchain.provider``).
    """

    Settings = CustomScriptSettings

    @classmethod
    def describe(cls, table: Mapping[str, Any], home: Path) -> str:
        """The script an entry's raw table runs, for ``credchain status``."""
        setting = table.get("script")
        try:
            return str(script_path(home, setting if isinstance(setting, str) else None))
        except ConfigError as exc:
            return f"(unusable: {exc})"

    @classmethod
    def standalone(cls, home: Path) -> Standalone:
        """SAFE's rule: with no Thycotic configuration, the custom script alone, if it is there."""
        script = script_path(home)
        if script.is_file():
            return Standalone(True, f"the custom script {script}")
        return Standalone(False, f"place your custom script at {script}")

    def __init__(self, settings: CustomScriptSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        self.script = script_path(context.home, settings.script)
        self._pool = WorkerPool(
            self.script,
            size=settings.workers,
            timeout=settings.timeout,
            environ=self._worker_environ(),
            pass_environment=settings.pass_environment,
        )

    def _worker_environ(self) -> dict[str, str]:
        """The scanner's environment and where the config is (for ``.api``); the pool passes the
        worker only a minimal part of it, and the ``pass_environment`` names."""
        environ = dict(self.context.environ)
        environ["CREDCHAIN_HOME"] = os.fspath(self.context.home)
        config = self.context.config
        if config is not None and config.path is not None:
            environ["CREDCHAIN_CONFIG"] = os.fspath(config.path)
        return environ

    def check(self) -> str:
        """Check the script as ``resolve`` would run it: file, owner, mode, load, entry point."""
        result = check_script(
            self.script,
            timeout=self.settings.timeout,
            environ=self._worker_environ(),
            pass_environment=self.settings.pass_environment,
        )
        result.raise_for_problem()
        return f"the script {self.script} is valid (entry point at line {result.entry_point_line})"

    def advice(self, error: BaseException, query: AssetQuery | None) -> list[str] | None:
        """``Advises``: a script that answered "not here" is the script's to explain."""
        if isinstance(error, CredentialNotFound):
            return [
                f'The custom script {self.script} answered "not here" for this asset (it '
                "returned None or raised its not-found error); check what it does for it.",
            ]
        return None

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the running workers."""
        return self._pool.pids

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> SafeCredential | None:
        reply = self._pool.call({"op": "call", "query": query.to_query_data()})
        credential = credential_from_reply(reply, self.script)
        if credential is None:
            note(f"script {self.script.name} answered not here")
        return credential

    @hookimpl
    def credchain_extract_credentials(self, record: object) -> SafeCredential | None:
        if not isinstance(record, SafeCredential):
            raise ScriptError(f"unexpected record {type(record).__name__}")
        return record

    def close(self) -> None:
        """Stop the workers."""
        self._pool.close()
