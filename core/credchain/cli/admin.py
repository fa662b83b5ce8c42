"""``credchain status``, ``enable`` and ``disable``: SAFE's ``-o status|enable|disable``.

``status`` reads the file as it is (no decryption, no environment), so it answers even when a
setting is broken: ``Enabled``, ``Disabled`` or ``Not configured`` (no file, or an empty chain),
then the chain (where each entry points, from providers that are ``Describes``) and the last test
result. Exit status 0 for all three; 1 for an unreadable file.

``enable`` with an empty chain does what SAFE's script does with no Thycotic configuration: it
enables a provider that can serve with no settings (``StandsAlone``: the custom script, when it
is in place).

Both then check what ``resolve`` would meet (``problems``): the configuration loads (``enc:``
values decrypt, ``_env`` variables are set), every chain entry's provider is installed and its
settings are valid. ``status`` never shows a green ``Enabled`` over a chain that cannot resolve:
it says ``Enabled, but broken`` in red, with the reasons; both warn when the last test failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

import click
from pydantic import BaseModel, ValidationError

from credchain.cli.guidance import fail
from credchain.cli.output import print_table
from credchain.config import load_config, settings_error
from credchain.configstore import ConfigStore
from credchain.errors import CredchainError
from credchain.plugins import installed_provider_classes, load_provider_classes
from credchain.provider import Describes, StandsAlone

__all__ = ["disable", "enable", "problems", "state_of", "status"]

ENABLED, DISABLED, NOT_CONFIGURED = "Enabled", "Disabled", "Not configured"
_COLOURS = {ENABLED: "green", DISABLED: "yellow", NOT_CONFIGURED: "red"}

config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Config file."
)


def chain_names(document: dict[str, Any]) -> list[str]:
    """The entry names of a raw document's chain; none when it is not a list (a broken file)."""
    chain = document.get("chain")
    return [name for name in chain if isinstance(name, str)] if isinstance(chain, list) else []


def state_of(document: dict[str, Any]) -> str:
    """``Enabled``, ``Disabled`` or ``Not configured`` for a raw config document."""
    if not chain_names(document):
        return NOT_CONFIGURED
    return ENABLED if document.get("enabled", True) is not False else DISABLED


def _load(store: ConfigStore) -> dict[str, Any]:
    try:
        return store.load()
    except CredchainError as exc:
        fail(exc, stage="config")


def _chain_rows(
    document: dict[str, Any], home: Path
) -> tuple[list[tuple[object, ...]], Mapping[str, type]]:
    tables = document.get("providers")
    tables = tables if isinstance(tables, dict) else {}
    chain = chain_names(document)
    entries = []
    for name in chain:
        table = tables.get(name)
        table = table if isinstance(table, dict) else {}
        kind = table.get("type", name)
        entries.append((name, kind if isinstance(kind, str) else str(kind), table))
    classes = load_provider_classes([kind for _, kind, _ in entries], tolerant=True).classes
    rows: list[tuple[object, ...]] = []
    for position, (name, kind, table) in enumerate(entries, start=1):
        cls = classes.get(kind)
        where = cls.describe(table, home) if _describes(cls) else ""
        rows.append((position, name, kind, where))
    return rows, classes


def _describes(cls: object) -> TypeGuard[type[Describes]]:
    return isinstance(cls, type) and issubclass(cls, Describes)


def _stands_alone(cls: object) -> TypeGuard[type[StandsAlone]]:
    return isinstance(cls, type) and issubclass(cls, StandsAlone)


def _echo_state(state: str, broken: object = False) -> None:
    if state == ENABLED and broken:
        click.secho(f"{ENABLED}, but broken: resolve will fail", fg="red", bold=True)
        return
    click.secho(state, fg=_COLOURS[state], bold=True)


def problems(
    store: ConfigStore, document: dict[str, Any], classes: Mapping[str, type] | None = None
) -> tuple[list[str], bool]:
    """Why the chain cannot resolve as configured (empty when it can, as far as settings go),
    to warn about; and whether a provider of the chain does not load (already reported by the
    tolerant loading, which logs it). ``classes``: the chain's provider classes, if loaded."""
    if not chain_names(document):
        return [], False
    try:
        config = load_config(store.path)
    except CredchainError as exc:
        return [f"the configuration does not load: {exc}"], False
    entries = [config.entry(name) for name in config.chain]
    if classes is None:
        classes = load_provider_classes([e.type for e in entries], tolerant=True).classes
    found: list[str] = []
    missing = False
    for entry in entries:
        cls = classes.get(entry.type)
        missing = missing or cls is None
        model: type[BaseModel] | None = getattr(cls, "Settings", None)
        if model is None:
            continue
        try:
            model.model_validate(dict(entry.settings))
        except ValidationError as exc:
            found.append(str(settings_error(exc, key=f"providers.{entry.name}", kind=entry.type)))
    return found, missing


def _warn(text: str) -> None:
    click.secho("credchain: warning: ", fg="yellow", err=True, nl=False)
    click.echo(text, err=True)


def _warn_last_test(store: ConfigStore) -> None:
    last = store.last_test()
    if last is not None and not last.ok:
        _warn(f"the last test failed ({last.at}: {last.summary}); run: credchain test")


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(config_path: str | None, as_json: bool) -> None:
    """Show whether credchain is Enabled, Disabled or Not configured, the chain and last test."""
    store = ConfigStore.find(config_path)
    document = _load(store)
    state = state_of(document)
    last = store.last_test()
    rows, classes = _chain_rows(document, store.home)
    broken, missing = problems(store, document, classes) if state == ENABLED else ([], False)
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
                    "problems": broken + (["a provider of the chain does not load"] * missing),
                },
                indent=2,
            )
        )
        return
    _echo_state(state, broken or missing)
    for text in broken:
        _warn(text)
    if state == NOT_CONFIGURED:
        click.echo(f"No chain in {store.path}: run 'credchain add' (or configure-thycotic).")
        return
    print_table(("#", "entry", "type", "where"), rows, title="chain")
    if last is None:
        click.echo("Last test: none (run 'credchain test')")
        return
    verdict = "passed" if last.ok else "FAILED"
    click.echo(f"Last test: {verdict} at {last.at}: {last.summary}")
    _warn_last_test(store)


@click.command()
@config_option
def enable(config_path: str | None) -> None:
    """Enable credchain (SAFE's -o enable); with no chain, a custom script alone is enabled."""
    store = ConfigStore.find(config_path)
    document = _load(store)
    if not document.get("chain"):
        name, hints = _standalone(store.home)
        if name is None:
            where = "".join(f" or {hint}" for hint in hints)
            fail(f"Not configured: run 'credchain add'{where}, then enable again.")
        document = store.update(enabled=True, chain=[name])
    elif document.get("enabled") is not True:
        document = store.set_enabled(True)
    broken, missing = problems(store, document)
    _echo_state(state_of(document), broken or missing)
    for text in broken:
        _warn(text)
    _warn_last_test(store)


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


def _standalone(home: Path) -> tuple[str | None, list[str]]:
    """The first installed provider type that can be the whole chain, and every hint."""
    hints: list[str] = []
    for name, cls in sorted(installed_provider_classes().items()):
        if _stands_alone(cls):
            found = cls.standalone(home)
            if found.ready:
                click.echo(f"Using {found.description}.")
                return name, hints
            hints.append(found.description)
    return None, hints
