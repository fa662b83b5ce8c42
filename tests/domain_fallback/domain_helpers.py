"""A dev-server dataset of machine, domain and local secrets, and a provider builder for it.

Secret ids are fixed so tests can name them; names are chosen so that name order differs from
id order (the dev server answers searches in name order, the provider decides by id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from credchain.config import Config, EntryConfig
from credchain.devserver import DevServer
from credchain.devserver.datafile import (
    Dataset,
    FolderSpec,
    SecretSpec,
    TemplateField,
    TemplateSpec,
)
from credchain.provider import ProviderContext
from credchain_domain_fallback import DomainFallbackProvider, DomainFallbackSettings

WINDOWS, AD, SCAN, HOST = 6003, 6001, 6100, 7000
SCAN_FOLDER, TIER0_FOLDER = 1, 2

#: secret id -> planted password (every one unique, none a substring of another)
PASSWORDS: dict[int, str] = {}
PRIVILEGE = "Priv-db01-Q7pX#k2"


def _secret(
    secret_id: int,
    name: str,
    template: int,
    items: dict[str, str],
    *,
    folder: int = SCAN_FOLDER,
    **flags: Any,
) -> SecretSpec:
    password = f"Pw-{secret_id}-x9Lm!{secret_id * 7}"
    PASSWORDS[secret_id] = password
    slug = "secret" if template == HOST else "password"
    return SecretSpec(
        id=secret_id,
        name=name,
        template_id=template,
        folder_id=folder,
        items={**items, slug: password},
        **flags,
    )


SECRETS = [
    # (a) machine secrets: FQDN, short name (of CORP: a short name needs its domain), IP; two
    # for app-01 (ambiguous)
    _secret(
        101,
        "web-01 Administrator",
        WINDOWS,
        {"machine": "web-01.corp.example.com", "username": "Administrator"},
    ),
    _secret(
        102,
        "web-01 svc-scan",
        SCAN,
        {"machine": "WEB-01", "domain": "CORP", "username": "svc-scan"},
    ),
    _secret(
        103, "10.0.0.5 Administrator", WINDOWS, {"machine": "10.0.0.5", "username": "Administrator"}
    ),
    _secret(
        110,
        "zz app-01 old",
        WINDOWS,
        {"machine": "app-01.corp.example.com", "username": "Administrator"},
    ),
    _secret(
        111,
        "aa app-01 new",
        WINDOWS,
        {"machine": "app-01.corp.example.com", "username": "Administrator"},
    ),
    _secret(
        106,
        "db-01 scan account",
        SCAN,
        {
            "machine": "db-01.lab.example.com",
            "domain": "LAB",
            "username": "svc-scan",
            "privilege-password": PRIVILEGE,
        },
    ),
    # (b) domain accounts (no machine); 202 stores its domain as a DNS name
    _secret(201, "CORP svc-scan", AD, {"domain": "CORP", "username": "svc-scan"}),
    _secret(202, "LAB svc-scan", AD, {"domain": "lab.example.com", "username": "svc-scan"}),
    _secret(203, "CORP svc-backup", AD, {"domain": "corp", "username": "svc-backup"}),
    _secret(204, "OTHER svc-scan", AD, {"domain": "OTHER", "username": "svc-scan"}),
    _secret(208, "A copy of CORP svc-scan", AD, {"domain": "CORP", "username": "svc-scan"}),
    _secret(209, "EU svc-scan", AD, {"domain": "EU", "username": "svc-scan"}),
    _secret(
        210,
        "CORP svc-audit",
        AD,
        {"domain": "CORP", "username": "svc-audit"},
        requires_comment=True,
    ),
    _secret(
        211,
        "LAB break-glass",
        AD,
        {"domain": "LAB", "username": "break-glass"},
        check_out_enabled=True,
    ),
    _secret(
        300,
        "CORP svc-scan tier0",
        AD,
        {"domain": "CORP", "username": "svc-scan"},
        folder=TIER0_FOLDER,
    ),
    # (c) local accounts: an empty domain
    _secret(205, "svc-scan (local)", AD, {"domain": "", "username": "svc-scan"}),
    _secret(206, "svc-backup (local)", AD, {"domain": "", "username": "svc-backup"}),
    # a template of the admin's own, with other field names
    _secret(
        401, "custom host", HOST, {"host-name": "custom-01.corp.example.com", "login": "hostadmin"}
    ),
    _secret(402, "custom domain", HOST, {"ad-domain": "CORP", "login": "svc-custom"}),
]

DATASET = Dataset(
    folders=[
        FolderSpec(id=SCAN_FOLDER, name="Scan Accounts"),
        FolderSpec(id=TIER0_FOLDER, name="Tier0"),
    ],
    templates=[
        TemplateSpec(
            id=HOST,
            name="Host Account",
            fields=[
                TemplateField(field_id=70001, name="Host Name", slug="host-name"),
                TemplateField(field_id=70002, name="AD Domain", slug="ad-domain"),
                TemplateField(field_id=70003, name="Login", slug="login"),
                TemplateField(field_id=70004, name="Secret", slug="secret", is_password=True),
            ],
        )
    ],
    secrets=SECRETS,
)

ALL_SECRETS = [*PASSWORDS.values(), PRIVILEGE]


def connection_table(server: DevServer, **overrides: Any) -> dict[str, Any]:
    """A thycotic entry's settings for ``server`` (admin login, CA-verified)."""
    return server.thycotic_table(**{"retries": 1, "read_timeout": 5.0, **overrides})


def make_config(
    server: DevServer, home: Path, connection: dict[str, Any] | None = None, ctype: str = "thycotic"
) -> Config:
    """A config with a thycotic entry ``primary`` (not in the chain) and ``windows``."""
    primary = EntryConfig("primary", ctype, settings=connection or connection_table(server))
    return Config(path=None, home=home, chain=("windows",), providers={"primary": primary})


def make_provider(
    server: DevServer,
    home: Path,
    *,
    connection_values: dict[str, Any] | None = None,
    **settings: Any,
) -> DomainFallbackProvider:
    values: dict[str, Any] = {"connection": "primary", "domains": ["CORP", "LAB"]}
    values.update(settings)
    context = ProviderContext("windows", home, config=make_config(server, home, connection_values))
    return DomainFallbackProvider(DomainFallbackSettings.model_validate(values), context)
