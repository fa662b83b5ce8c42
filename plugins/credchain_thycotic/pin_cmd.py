"""``credchain pin [ENTRY]``: pin the certificate a Secret Server presents now (a renewed one).

The certificate is shown (fingerprint, subject, issuer, expiry) beside the one pinned, and pinned
only once the admin confirms it, or gives its fingerprint with ``--fingerprint`` (checked against
the one presented), or passes ``--yes``. The entry then has ``verify_ssl = false`` and the new
``fingerprint_sha256``; every other setting stays. A mismatch with ``--fingerprint`` saves
nothing.

The thycotic plugin adds this command through the entry-point group ``credchain.commands``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from credchain.cli.guidance import Case, fail
from credchain.cli.prompts import check_fingerprint, show_certificate
from credchain.config import load_config
from credchain.configstore import ConfigStore
from credchain.errors import CredchainError
from credchain.tls import format_fingerprint
from credchain_thycotic.entry_cli import pick_entry
from credchain_thycotic.trust import presented

__all__ = ["pin"]


@click.command(name="pin")
@click.argument("entry_name", metavar="[ENTRY]", required=False)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--fingerprint", help="The SHA-256 fingerprint you expect; pinned if it matches.")
@click.option("--yes", "-y", is_flag=True, help="Pin the certificate shown without asking.")
def pin(
    config_path: str | None, entry_name: str | None, fingerprint: str | None, yes: bool
) -> None:
    """Pin the certificate a Secret Server entry presents now (after a renewal).

    ENTRY is a thycotic chain entry [the first of the chain]. Exit status: 0 pinned (or already
    pinned); 1 not pinned: refused, a mismatch, or an error.
    """
    store = ConfigStore.find(config_path)
    try:
        config = load_config(store.path)
        name, settings = pick_entry(config, entry_name)
    except CredchainError as exc:
        fail(exc, stage="config")
    info = presented(settings.base_url, urlsplit(settings.base_url).port or settings.port)
    show_certificate(info, settings.base_url)
    old = settings.fingerprint_sha256
    if old == info.sha256:
        click.echo(f"{name}: this certificate is already the one pinned.")
        return
    click.echo(
        f"{name} pins {format_fingerprint(old)} now."
        if old
        else f"{name} verifies the certificate now (Verify SSL = Yes); pinning sets it to No."
    )
    if fingerprint is not None and check_fingerprint(fingerprint) != info.sha256:
        fail(
            f"the server presents the certificate {info.fingerprint}, not "
            f"{format_fingerprint(fingerprint)}: it may not be your Secret Server. Nothing was "
            "saved.",
            case=Case.TLS_MISMATCH,
        )
    if fingerprint is None and not yes and not click.confirm("Pin this certificate?"):
        click.echo("Nothing was saved.", err=True)
        click.get_current_context().exit(1)
    with store.transaction() as txn:
        document = store.load()
        table = document["providers"][name]
        table.pop("ca_bundle", None)
        table.update(verify_ssl=False, fingerprint_sha256=info.sha256)
        store.stage_config(txn, document)
    click.echo(f"Pinned certificate {info.fingerprint} for {name} in {store.path}.")
