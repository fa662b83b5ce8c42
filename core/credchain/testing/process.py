"""``credchain`` in a child process, for tests that need its real stdout, stderr and exit code.

``run_credchain(home, "resolve", "--json", ...)`` runs ``python -m credchain`` with this
interpreter, in an environment without the parent's ``CREDCHAIN_*`` and ``PYTHON*`` variables
(so the parent's configuration cannot leak in), with ``CREDCHAIN_HOME`` set to ``home``.
``pythonpath`` puts a site directory (see ``distributions.write_distribution``) on the child's
path; ``environ`` replaces the inherited environment entirely (for tests of what it decides),
``extra`` adds variables to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["child_environ", "run_credchain"]


def child_environ(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a child credchain of ``home``: without the parent's
    ``CREDCHAIN_*`` and ``PYTHON*`` variables, with ``CREDCHAIN_HOME``, then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDCHAIN_", "PYTHON"))}
    env["CREDCHAIN_HOME"] = str(home)
    env.update(extra or {})
    return env


def run_credchain(
    home: Path,
    *args: str,
    pythonpath: Path | None = None,
    environ: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m credchain ARGS`` for ``home``; never raises for a non-zero exit."""
    base = child_environ(home) if environ is None else {**environ, "CREDCHAIN_HOME": str(home)}
    if pythonpath is not None:
        base["PYTHONPATH"] = str(pythonpath)
    base.update(extra or {})
    return subprocess.run(
        [sys.executable, "-m", "credchain", *args],
        env=base,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
