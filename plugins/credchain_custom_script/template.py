"""The starting point ``credchain script init`` writes: SAFE's template, for today's Python."""

from __future__ import annotations

from pathlib import Path

from credchain.errors import ScriptError
from credchain.files import atomic_write, ensure_private_dir

__all__ = ["TEMPLATE", "write_template"]

TEMPLATE = '''\
"""credchain custom script: the credential of one asset, in SAFE's format.

credchain calls get_password_from_thycotic(query_data) once per asset, in a worker process.
query_data has exactly "asset_name", "ip_address" (an IP address or a host name) and "cmdb_id";
each is text or None, and one at least is present.

Return {"username": ..., "password": b64(...), "privilegePassword": b64(...)} (the last is
optional), or None -- or raise NotFound -- when you have no credential for the asset: credchain
then asks the next provider of the chain.

print() output is discarded; an exception is reported by type and line, never by its message.
Try it: credchain script check --asset-name web-01
"""

from __future__ import annotations

import base64


class NotFound(Exception):
    """Raise it for "no credential for this asset here" (the same as returning None)."""


def b64(text: str) -> str:
    """SAFE wants passwords base64-encoded."""
    return base64.b64encode(text.encode()).decode("ascii")


def get_password_from_thycotic(query_data: dict[str, str | None]) -> dict[str, str] | None:
    asset = query_data["asset_name"] or query_data["ip_address"] or query_data["cmdb_id"]
    if asset is None:
        raise NotFound

    # Your logic goes here: ask Secret Server (credchain_custom_script.api gives a ready client
    # and the configured field mapping), read a vault CLI, apply your selection rules...
    # Then return, for example:
    #   return {"username": "svc-scan", "password": b64(password)}
    return None
'''


def write_template(path: Path, *, force: bool = False) -> Path:
    """Write the template to ``path`` (0600, atomically); refuse to overwrite unless ``force``."""
    if path.exists() and not force:
        raise ScriptError(f"{path} exists; use --force to replace it")
    ensure_private_dir(path.parent)
    atomic_write(path, TEMPLATE, mode=0o600)
    return path
