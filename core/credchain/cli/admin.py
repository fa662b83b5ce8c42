"""``credchain status``, ``enable`` and ``disable``: SAFE's ``-o status|enable|disable``.

``status`` reads the file as it is (no decryption, no environment), so it answers even when a
setting is broken: ``Enabled``, ``Disabled`` or ``Not configured`` (no file, or an empty chain),
then the chain and the last test result. Exit status 0 for all three; 1 for an unreadable file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from credchain.cli.guidance import fail
from credchain.cli.output import print_table
from credchain.config import load_config
from credchain.configstore import ConfigStore
from credchain.errors import CredchainError

__all__ = ["disable", "enable", "state_of", "status"]

ENABLED, DISABLED, NOT_CONFIGURED = "Enabled", "Disabled", "Not configured"
_COLOURS = {ENABLED: "green", DISABLED: "yellow", NOT_CONFIGURED: "red"}

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Config file."
)


def state_of(document: dict[str, Any]) -> str:
    """``Enabled``, ``Disabled`` or ``Not configured`` for a raw config document."""
    if not document.get("chain"):
        return NOT_CONFIGURED
    return ENABLED if document.get("enabled", True) is not False else DISABLED


def _load(store: ConfigStore) -> dict[str, Any]:
    try:
        return store.load()
    except CredchainError as exc:
        fail(exc, stage="config")


def _chain_rows(document: dict[str, Any], home: Path) -> list[tuple[object, ...]]:
    tables = document.get("providers")
    tables = tables if isinstance(tables, dict) else {}
    rows: list[tuple[object, ...]] = []
    for position, name in enumerate(document.get("chain") or (), start=1):
        table = tables.get(name)
        table = table if isinstance(table, dict) else {}
        kind = table.get("type", name)
        rows.append((position, name, kind, _describe(kind, table, home)))
    return rows


def _describe(kind: object, table: dict[str, Any], home: Path) -> str:
    if kind == "thycotic" and isinstance(table.get("url"), str):
        port = table.get("port")
        return str(table["url"]) + (f" (port {port})" if port else "")
    if kind == "custom-script":
        try:
            from credchain_custom_script import script_path
        except ImportError:
            return str(table.get("script", ""))
        return str(script_path(home, table.get("script")))
    return ""


def _echo_state(state: str) -> None:
    click.secho(state, fg=_COLOURS[state], bold=True)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(config_path: str | None, as_json: bool) -> None:
    """Show whether credchain is Enabled, Disabled or Not configured, the chain and last test."""
    store = ConfigStore.find(config_path)
    document = _load(store)
    state = state_of(document)
    last = store.last_test()
    rows = _chain_rows(document, store.home)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "status": state,
                    "config": str(store.path),
                    "chain": [
                        {"name": name, "type": kind, "where": where}
                        for _, name, kind, where in rows
                    ],
                    "last_test": last.to_dict() if last else None,
                },
                indent=2,
            )
        )
        return
    _echo_state(state)
    if state == NOT_CONFIGURED:
        click.echo(f"No chain in {store.path}: run 'credchain add' (or configure-thycotic).")
        return
    print_table(("#", "entry", "type", "where"), rows, title="chain")
    if last is None:
        click.echo("Last test: none (run 'credchain test')")
        return
    verdict = "passed" if last.ok else "FAILED"
    click.echo(f"Last test: {verdict} at {last.at}: {last.summary}")


@click.command()
@config_option
def enable(config_path: str | None) -> None:
    """Enable credchain (SAFE's -o enable); with no chain, a custom script alone is enabled."""
    store = ConfigStore.find(config_path)
    document = _load(store)
    if not document.get("chain"):
        script = _custom_script(store.home)
        if script is None or not script.is_file():
            where = f" or place your custom script at {script}" if script else ""
            fail(f"Not configured: run 'credchain add'{where}, then enable again.")
        document = store.update(enabled=True, chain=["custom-script"])
        click.echo(f"Using the custom script {script}.")
    elif document.get("enabled") is not True:
        document = store.set_enabled(True)
    _echo_state(state_of(document))
    try:
        load_config(store.path)
    except CredchainError as exc:
        click.echo(f"credchain: warning: the configuration does not load: {exc}", err=True)


@click.command()
@config_option
def disable(config_path: str | None) -> None:
    """Disable credchain (SAFE's -o disable): resolve refuses until enabled again."""
    store = ConfigStore.find(config_path)
    document = _load(store)
    if not document.get("chain"):
        click.echo(f"{NOT_CONFIGURED}: nothing to disable.")
        return
    if document.get("enabled", True) is not False:
        document = store.set_enabled(False)
    _echo_state(state_of(document))


def _custom_script(home: Path) -> Path | None:
    try:
        from credchain_custom_script import script_path
    except ImportError:
        return None
    return script_path(home)
