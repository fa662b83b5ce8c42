"""The built-in demo dataset: ~30 assets as a scanner sees them (listed in docs/dev-server.md).

Values are derived from the secret name, so they are the same on every start and tests can
predict them; they are demo values, never real credentials.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .datafile import (
    ClientCredential,
    Dataset,
    FileValue,
    FolderSpec,
    SecretSpec,
    UserSpec,
)
from .demo_certs import CERTIFICATES_FOLDER, certificate_secrets

__all__ = ["DEMO_ASSETS", "SCANNER_PASSWORD", "demo_dataset", "demo_password"]

# Demo-only credentials, documented in docs/dev-server.md.
SCANNER_PASSWORD = "scanner-dev-password"  # noqa: S105
FOLDERS = {
    "Infrastructure": (1, None),
    "Windows": (2, 1),
    "Unix": (3, 1),
    "Network": (4, 1),
    "Scan Accounts": (5, None),
    "Domain Accounts": (6, None),
    "Certificates": (CERTIFICATES_FOLDER, None),
}

#: folders where the scanner user may create secrets (Secret Server's "Add Secret" permission)
_SCANNER_ADDS = frozenset({"Scan Accounts"})


@dataclass(frozen=True, slots=True)
class Asset:
    fqdn: str
    ip: str
    cmdb_id: str
    os: str  # "windows", "unix" or "network"


def _assets() -> tuple[Asset, ...]:
    names = (
        [(n, "windows") for n in ("dc-01", "dc-02", "sql-01", "sql-02", "sql-03", "fs-01")]
        + [(f"win-app-0{i}", "windows") for i in range(1, 7)]
        + [(f"web-0{i}", "unix") for i in range(1, 7)]
        + [(f"app-0{i}", "unix") for i in range(1, 5)]
        + [(f"db-0{i}", "unix") for i in range(1, 5)]
        + [(n, "network") for n in ("sw-01", "sw-02", "fw-01", "lb-01")]
    )
    return tuple(
        Asset(f"{name}.corp.example.com", f"10.0.1.{11 + i}", f"CMDB-{1001 + i}", os)
        for i, (name, os) in enumerate(names)
    )


DEMO_ASSETS = _assets()


def demo_password(label: str) -> str:
    """The demo password of the secret called ``label``: stable, distinct, not guessable-looking."""
    return "Dev-" + hashlib.sha256(b"credchain-demo:" + label.encode()).hexdigest()[:16]


def _notes(asset: Asset) -> str:
    return f"cmdb_id={asset.cmdb_id}; ip={asset.ip}"


def _secrets() -> list[SecretSpec]:
    out: list[SecretSpec] = []
    for asset in DEMO_ASSETS:
        short = asset.fqdn.split(".")[0]
        if asset.os == "windows":
            name = f"{asset.fqdn} Administrator"
            items = {"machine": asset.fqdn, "username": "Administrator"}
            out.append(_secret(name, 6003, "Windows", items, _notes(asset), []))
        elif asset.os == "unix":
            name = asset.fqdn
            scan = {
                "machine": asset.fqdn,
                "domain": "",
                "username": "svc-scan",
                "privilege-password": demo_password(name + ":root"),
            }
            out.append(_secret(name, 6100, "Scan Accounts", scan, _notes(asset), ["scanner"]))
            unix: dict[str, str | FileValue] = {"machine": asset.fqdn, "username": "root"}
            if short in ("web-01", "web-02", "web-03"):
                unix["private-key"] = FileValue(filename="id_ed25519", content=_fake_key(short))
                unix["private-key-passphrase"] = demo_password(name + ":key")
            out.append(_secret(f"{asset.fqdn} root", 6007, "Unix", unix, _notes(asset), []))
        else:
            items = {"resource": asset.ip, "username": "netadmin"}
            out.append(_secret(asset.fqdn, 2, "Network", items, _notes(asset), ["scanner"]))
    domain = [
        ("CORP\\svc-scan", "CORP", "svc-scan", ["scanner"]),
        ("LAB\\svc-scan", "LAB", "svc-scan", ["scanner"]),
        ("CORP\\svc-backup", "CORP", "svc-backup", []),
        ("svc-scan (local)", "", "svc-scan", ["scanner"]),
    ]
    for name, dom, user, perms in domain:
        items = {"domain": dom, "username": user}
        out.append(_secret(name, 6001, "Domain Accounts", items, "", perms))
    restricted = _secret(
        "CORP\\Administrator",
        6001,
        "Domain Accounts",
        {"domain": "CORP", "username": "Administrator"},
        "",
        ["scanner"],
    )
    restricted.requires_comment = True
    checkout = _secret(
        "LAB\\break-glass",
        6001,
        "Domain Accounts",
        {"domain": "LAB", "username": "break-glass"},
        "",
        ["scanner"],
    )
    checkout.check_out_enabled = True
    return [*out, restricted, checkout]


def _secret(
    name: str,
    template_id: int,
    folder: str,
    items: dict[str, str | FileValue] | dict[str, str],
    notes: str,
    permissions: list[str],
) -> SecretSpec:
    values: dict[str, str | FileValue] = {**items, "password": demo_password(name), "notes": notes}
    return SecretSpec(
        name=name,
        folder_id=FOLDERS[folder][0],
        template_id=template_id,
        items=values,
        permissions=permissions,
    )


def _fake_key(host: str) -> str:
    # Not a usable key: a recognisable PEM-shaped blob for file-field tests.
    body = hashlib.sha256(host.encode()).hexdigest()
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"


def demo_dataset() -> Dataset:
    """A fresh copy of the demo dataset (the admin password is chosen by the server)."""
    return Dataset(
        users=[
            UserSpec(
                username="scanner",
                password=SCANNER_PASSWORD,
                clients=[
                    ClientCredential(
                        client_id="scanner-client",
                        client_secret="scanner-client-secret",  # noqa: S106 (demo)
                    )
                ],
            ),
            UserSpec(
                username="svc-reader",
                password="reader-dev-password",  # noqa: S106 (demo)
                domain="CORP",
            ),
        ],
        folders=[
            FolderSpec(
                id=i, name=n, parent=p, permissions=["scanner"] if n in _SCANNER_ADDS else []
            )
            for n, (i, p) in FOLDERS.items()
        ],
        secrets=[*_secrets(), *certificate_secrets()],
    )
