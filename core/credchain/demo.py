"""``credchain demo``: the main job, end to end, on one machine.

Starts the dev server in this process, writes a temporary home whose chain is
thycotic → domain fallback → custom script, resolves the demo inventory with ``resolve_many``
and shows where each credential came from (passwords masked), then explains one asset that fell
through the whole chain. Only loopback is used; the home and the server are gone at the end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from credchain.devserver import DEMO_ASSETS, DevServer
from credchain.files import atomic_write, ensure_private_dir
from credchain.models import AssetQuery
from credchain.resolver import Resolver
from credchain.scan import Resolution
from credchain.secretstore import SecretStore

__all__ = ["DEMO_SCRIPT", "DemoRun", "demo_inventory", "demo_run"]

#: the custom script of the demo: OT devices whose credentials live outside the vault
DEMO_SCRIPT = '''\
"""Demo custom script: credentials of OT devices kept outside Secret Server."""

import base64

PLANT = {"ot-plc-01.plant.example.org": ("plc-maint", "plc-demo-pw")}


def get_password_from_thycotic(query_data):
    found = PLANT.get(query_data.get("asset_name") or "")
    if found is None:
        return None
    username, password = found
    return {"username": username, "password": base64.b64encode(password.encode()).decode()}
'''

#: where the demo's script is written, in the demo's home
DEMO_SCRIPT_FILE = "demo_script.py"

#: assets that only later chain entries know, and one that nobody knows
EXTRA_ASSETS = (
    AssetQuery(asset_name="kiosk-07.corp.example.com", ip_address="10.0.2.7", cmdb_id="CMDB-2007"),
    AssetQuery(asset_name="ot-plc-01.plant.example.org", ip_address="10.8.0.21"),
    AssetQuery(asset_name="legacy-99.example.net", ip_address="192.0.2.99", cmdb_id="CMDB-9999"),
)
#: the asset the demo explains: no entry of the chain has it
FELL_THROUGH = EXTRA_ASSETS[-1]


def demo_inventory() -> list[AssetQuery]:
    """The 30 demo assets of the dev server, then the extra ones."""
    assets = [
        AssetQuery(asset_name=a.fqdn, ip_address=a.ip, cmdb_id=a.cmdb_id) for a in DEMO_ASSETS
    ]
    return [*assets, *EXTRA_ASSETS]


def _config(server: DevServer, home: Path) -> dict[str, Any]:
    store = SecretStore(home)
    return {
        "enabled": True,
        "chain": ["thycotic", "domain", "script"],
        "providers": {
            "thycotic": {
                "type": "thycotic",
                **server.thycotic_table(
                    password=store.encrypt(server.admin.password),
                    comment="credchain demo scan",
                    mapping={"privilege_password_field": "Privilege Password"},
                ),
            },
            "domain": {
                "type": "domain-fallback",
                "connection": "thycotic",
                "domains": ["CORP", "LAB"],
            },
            "script": {
                "type": "custom-script",
                "script": str(home / DEMO_SCRIPT_FILE),
                "timeout": 10,
            },
        },
    }


@dataclass
class DemoRun:
    """What the demo resolved, for printing or testing."""

    resolver: Resolver
    home: Path
    server: DevServer

    def scan(self, progress: Callable[[int, Resolution], None] | None = None) -> list[Resolution]:
        results = self.resolver.resolve_many(demo_inventory(), concurrency=8, progress=progress)
        return sorted(results, key=lambda result: result.index)


@contextmanager
def demo_run() -> Iterator[DemoRun]:
    """A dev server and a temporary home configured for the demo; both removed at the end."""
    with (
        DevServer() as server,
        tempfile.TemporaryDirectory(prefix="credchain-demo-") as tmp,
    ):
        home = ensure_private_dir(Path(tmp) / "home")
        atomic_write(home / DEMO_SCRIPT_FILE, DEMO_SCRIPT)
        config_path = home / "credchain.toml"
        atomic_write(config_path, tomli_w.dumps(_config(server, home)))
        with Resolver.from_config(config_path, environ={"CREDCHAIN_HOME": str(home)}) as resolver:
            yield DemoRun(resolver, home, server)
