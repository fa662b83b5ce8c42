"""Shell completion of chain entry names, for click's completion (``docs/admin-guide.md``).

``credchain`` completes like any click program: ``eval "$(_CREDCHAIN_COMPLETE=bash_source
credchain)"`` (``zsh_source``, ``fish_source``). Commands, options and, through the callbacks
here, the entry names of the configuration (``--config`` if given first, else the default one)
are completed. The file is read raw, as ``status`` reads it: no decryption, no environment, and
a file that does not read completes nothing rather than failing the shell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem

from credchain.configstore import ConfigStore

__all__ = ["complete_entries", "entry_completer"]

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _entries(ctx: click.Context) -> dict[str, str]:
    """Entry name -> provider type, the chain's first, then the other tables."""
    config_path = ctx.params.get("config_path")
    try:
        document: dict[str, Any] = ConfigStore.find(config_path).load()
    except Exception:  # completion must never break the user's shell
        return {}
    tables = document.get("providers")
    tables = tables if isinstance(tables, dict) else {}
    chain = document.get("chain")
    names = [n for n in chain if isinstance(n, str)] if isinstance(chain, list) else []
    names += [n for n in tables if n not in names]
    found = {}
    for name in names:
        table = tables.get(name)
        kind = table.get("type", name) if isinstance(table, dict) else name
        found[name] = kind if isinstance(kind, str) else ""
    return found


def entry_completer(kind: str | None = None) -> Completer:
    """A ``shell_complete`` callback completing entry names (of provider type ``kind`` only,
    if given), each with its type as help."""

    def complete(
        ctx: click.Context, _param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [
            CompletionItem(name, help=entry_type)
            for name, entry_type in _entries(ctx).items()
            if name.startswith(incomplete) and (kind is None or entry_type == kind)
        ]

    return complete


#: completes every entry name of the configuration
complete_entries = entry_completer()
