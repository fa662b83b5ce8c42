"""A temporary credchain home with a configuration, for tests of a provider in a real chain.

```python
def test_lab_chain(credchain_home):          # the pytest fixture: CREDCHAIN_HOME set
    credchain_home.write_config({"chain": ["lab"], "providers": {"lab": {"type": "envvars"}}})
    with credchain_home.resolver() as resolver:
        resolver.resolve({"asset_name": "web-01"})
    result = credchain_home.invoke("test", "--asset-name", "web-01")   # the CLI, in-process
```

The providers named must be installed (``pip install -e .`` of your distribution, or an entry
point from ``credchain.testing.distributions.write_distribution``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w
from click.testing import CliRunner, Result

from credchain.home import CONFIG_FILE
from credchain.resolver import Resolver
from credchain.testing.process import run_credchain

__all__ = ["CredchainHome"]


class CredchainHome:
    """A credchain home directory (mode 0700) and the environment its chain is built with."""

    def __init__(self, path: Path, environ: Mapping[str, str] | None = None) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        #: what ``resolver()`` hands the providers (``ProviderContext.environ``) and ``_env``
        #: settings read; ``os.environ`` at creation by default; change it freely
        self.environ: dict[str, str] = dict(os.environ if environ is None else environ)
        self.environ["CREDCHAIN_HOME"] = str(path)
        self.environ.pop("CREDCHAIN_CONFIG", None)

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    def write_config(self, document: Mapping[str, Any]) -> Path:
        """Write ``document`` (the TOML tables as dicts) as the home's config, mode 0600."""
        self.config_path.write_text(tomli_w.dumps(dict(document)), encoding="utf-8")
        self.config_path.chmod(0o600)
        return self.config_path

    def resolver(self, *, tolerant: bool = False) -> Resolver:
        """The resolver of the home's config, as ``credchain resolve`` builds it; close it."""
        return Resolver.from_config(self.config_path, tolerant=tolerant, environ=self.environ)

    def invoke(self, *args: str, input: str | None = None) -> Result:
        """Run ``credchain ARGS`` in this process (click's ``CliRunner``) against this home.

        The command's providers see the process's ``os.environ`` (set variables with pytest's
        ``monkeypatch.setenv``); ``CREDCHAIN_HOME`` is this home for the call.
        """
        from credchain.cli import main

        env = {"CREDCHAIN_HOME": str(self.path), "CREDCHAIN_CONFIG": None}
        return CliRunner().invoke(main, list(args), input=input, env=env)

    def run(self, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
        """Run ``credchain ARGS`` in a child process (``credchain.testing.process``)."""
        return run_credchain(self.path, *args, **options)

    def __repr__(self) -> str:
        return f"CredchainHome({self.path!r})"
