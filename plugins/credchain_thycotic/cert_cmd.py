"""``credchain cert get ID --out DIR``: a secret's certificate, key and PFX, written and checked.

Seed 004's Jenkins job by hand: fetch the secret, decode the base64 PFX, save the parts, inspect
them. Here every part is read and checked first, then written atomically with mode 0600
(``cert.pem``, ``key.pem``, ``cert.pfx`` in ``DIR``), so a bad secret writes nothing. Exit
status: 0 fine, 1 an error, 4 expiring within ``--warn-days``, 5 expired (or not valid yet)
with ``--warn-days``, 6 the key does not belong to the certificate.

The thycotic plugin adds this command through the entry-point group ``credchain.commands``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr

from credchain.errors import ConfigError, FieldMissing
from credchain.files import atomic_write, ensure_private_dir
from credchain_thycotic.certs import (
    EXIT_EXPIRED,
    CertificateParts,
    Inspection,
    inspect,
    read_parts,
)
from credchain_thycotic.client import SecretRecord, SecretServerClient
from credchain_thycotic.entry_cli import entry_options, open_entry

__all__ = ["CERT_FILE", "KEY_FILE", "PFX_FILE", "cert"]

CERT_FILE, KEY_FILE, PFX_FILE = "cert.pem", "key.pem", "cert.pfx"
#: the field names looked for when no option names one (the first present wins)
_DEFAULT_FIELDS = {
    "certificate": ("Certificate", "Certificate File", "Cert File"),
    "private_key": ("Private Key", "Private Key File", "Key File"),
    "pfx": ("PFX", "Pfx File", "PKCS12", "P12 File"),
    "password": ("Password", "Pfx Password", "Private Key Passphrase", "Passphrase"),
}


def _field(
    client: SecretServerClient, record: SecretRecord, names: Sequence[str], *, given: bool
) -> tuple[str, bytes] | None:
    """``(field name, raw content)`` of the first of ``names`` the secret has; a file field's
    content is fetched. A field named by an option must exist."""
    for name in names:
        try:
            slug = record.slug(name)
        except KeyError:
            continue
        if slug in record.files:
            return name, client.field_content(record.id, slug)
        return name, (record.value(name) or "").encode()
    if given:
        raise FieldMissing(
            f"secret {record.id} {record.name!r} has no field {names[0]!r}; its fields are "
            f"{', '.join(record.field_names())}"
        )
    return None


def _read(
    client: SecretServerClient, secret_id: int, chosen: dict[str, str | None]
) -> tuple[SecretRecord, CertificateParts]:
    record = client.get_secret(secret_id)
    found = {
        kind: _field(
            client,
            record,
            (name,) if name else _DEFAULT_FIELDS[kind],
            given=name is not None,
        )
        for kind, name in chosen.items()
    }
    password = found["password"]
    secret = f"secret {record.id} {record.name!r}"
    if found["certificate"] is None and found["pfx"] is None:
        raise FieldMissing(
            f"{secret} (template {record.template!r}) has no certificate or PFX field; its "
            f"fields are {', '.join(record.field_names())} (name one with --certificate-field "
            "or --pfx-field)"
        )
    parts = read_parts(
        secret,
        certificate=found["certificate"],
        private_key=found["private_key"],
        pfx=found["pfx"],
        password=(password[0], SecretStr(password[1].decode()) if password[1] else None)
        if password
        else None,
    )
    return record, parts


def _write(out: Path, parts: CertificateParts) -> dict[str, str]:
    """Write the parts into ``out`` (0700 if made), each file atomically with mode 0600."""
    try:
        ensure_private_dir(out)
    except OSError as exc:
        raise ConfigError(f"cannot use {out} for --out ({exc.strerror or exc})") from None
    files: dict[str, bytes] = {"certificate": parts.certificates_pem()}
    key = parts.key_file()
    if key is not None:
        files["private_key"] = key
    if parts.pfx is not None:
        files["pfx"] = parts.pfx
    names = {"certificate": CERT_FILE, "private_key": KEY_FILE, "pfx": PFX_FILE}
    written: dict[str, str] = {}
    for kind, data in files.items():
        path = out / names[kind]
        try:
            atomic_write(path, data, mode=0o600)
        except OSError as exc:
            raise ConfigError(f"cannot write {path} ({exc.strerror or exc})") from None
        written[kind] = str(path.resolve())
    return written


def _day(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _report(record: SecretRecord, files: dict[str, str], verdict: Inspection) -> list[str]:
    lines = [f"secret {record.id} {record.name!r} (template {record.template!r})"]
    lines += [f"wrote {path} (mode 0600)" for path in files.values()]
    for number, cert in enumerate(verdict.certificates, 1):
        lines += [
            f"certificate {number}: {cert.subject}",
            f"  issuer     {cert.issuer}",
            f"  SANs       {', '.join(cert.sans) or '(none)'}",
            f"  valid      {_day(cert.not_before)} to {_day(cert.not_after)}",
            f"  key        {cert.key_type}, {cert.key_size} bits",
            f"  SHA-256    {cert.sha256}",
        ]
    if verdict.key is None:
        lines.append("private key: none in the secret")
    else:
        matches = "matches" if verdict.key_matches else "DOES NOT MATCH"
        lines.append(
            f"private key: {verdict.key[0]}, {verdict.key[1]} bits; {matches} certificate 1"
        )
    if len(verdict.certificates) > 1:
        lines.append(f"chain: {verdict.chain_problem or 'in order, each issued by the next'}")
    days = verdict.days_left
    when = f"{days} days left" if days >= 0 else f"expired {-days} days ago"
    lines.append(f"status: {verdict.status} ({when})")
    return lines


@click.group()
def cert() -> None:
    """Certificates and keys kept in Secret Server (seed 004)."""


@cert.command("get")
@click.argument("secret_id", metavar="ID", type=click.IntRange(min=1))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for cert.pem, key.pem and cert.pfx (made with mode 0700 if missing).",
)
@entry_options
@click.option(
    "--warn-days",
    type=click.IntRange(min=0),
    help="Exit 4 if the certificate expires within N days, 5 if it has expired.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the inspection as JSON.")
@click.option("--certificate-field", help="Field of the PEM certificate [Certificate].")
@click.option("--key-field", help="Field of the PEM private key [Private Key].")
@click.option("--pfx-field", help="Field of the base64 PFX [PFX].")
@click.option("--password-field", help="Field of the PFX or key password [Password].")
@click.pass_context
def get(
    ctx: click.Context,
    secret_id: int,
    out: Path,
    entry_name: str | None,
    config_path: str | None,
    warn_days: int | None,
    as_json: bool,
    certificate_field: str | None,
    key_field: str | None,
    pfx_field: str | None,
    password_field: str | None,
) -> None:
    """Write secret ID's certificate, private key and PFX into --out, then inspect them.

    Exit status: 0 fine; 1 an error (nothing written); 4 expiring within --warn-days; 5
    expired or not valid yet (with --warn-days); 6 the key does not match the certificate.
    """
    with open_entry(config_path, entry_name) as opened:
        record, parts = _read(
            opened.client,
            secret_id,
            {
                "certificate": certificate_field,
                "private_key": key_field,
                "pfx": pfx_field,
                "password": password_field,
            },
        )
    verdict = inspect(parts, now=datetime.datetime.now(datetime.UTC), warn_days=warn_days)
    files = _write(out, parts)
    code = verdict.exit_code()
    if warn_days is None and code == EXIT_EXPIRED:
        code = 0  # dates decide the exit status only when asked to (--warn-days)
    if as_json:
        document: dict[str, Any] = {
            "secret": {"id": record.id, "name": record.name, "template": record.template},
            "files": files,
            **verdict.as_json(),
            "exit_code": code,
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo("\n".join(_report(record, files, verdict)))
    ctx.exit(code)
