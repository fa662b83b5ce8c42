"""The ``credchain`` command line.

Sub-commands are imported only when they run, so ``credchain resolve --json`` (called once per
asset by scanners that are not written in Python) does not pay for the dev server or the admin
commands. A ``CredchainError`` ends the command with one line on stderr and exit code 1; the
traceback only with ``--debug``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from credchain.errors import CredchainError

#: command name -> "module:attribute" of its click command
COMMANDS: dict[str, str] = {
    "add": "credchain.cli.add:add",
    "cache": "credchain.cli.cache:cache",
    "chain": "credchain.cli.chain:chain",
    "configure-thycotic": "credchain.cli.configure:configure_thycotic",
    "demo": "credchain.cli.demo:demo",
    "dev-server": "credchain.devserver.cli:dev_server",
    "disable": "credchain.cli.admin:disable",
    "enable": "credchain.cli.admin:enable",
    "providers": "credchain.cli.providers:providers",
    "resolve": "credchain.cli.resolve:resolve",
    "script": "credchain.cli.script:script",
    "status": "credchain.cli.admin:status",
    "test": "credchain.cli.testcmd:test",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use, and that reports our errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CredchainError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"credchain: error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Log debug messages and show tracebacks.")
@click.version_option(package_name="credchain")
def main(debug: bool) -> None:
    """credchain: asset credentials from privileged-access vaults, at scan time."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="credchain: %(levelname)s: %(name)s: %(message)s",
    )
