"""``credchain configure-thycotic -o OPTION``: SAFE's configure script, for admins who know it.

Seed 000 section 4: ``-o status|add|enable|disable|test-thycotic-script``; ``add`` when ``-o``
is missing. Each option runs the credchain command of the same purpose: ``status``, ``add``
(interactive), ``enable``, ``disable``, and ``test`` for ``test-thycotic-script`` (the default
Secret Server configuration, or the custom script when the chain uses one). Any further options
go to that command, so ``configure-thycotic -o add --yes --url ...`` runs unattended.

The thycotic plugin adds this command through the entry-point group ``credchain.commands``.
"""

from __future__ import annotations

import click

from credchain.cli.admin import disable, enable, status
from credchain.cli.testcmd import test
from credchain_thycotic.add import add

__all__ = ["configure_thycotic"]

OPTIONS = {
    "status": status,
    "add": add,
    "enable": enable,
    "disable": disable,
    "test-thycotic-script": test,
}


@click.command(
    name="configure-thycotic",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "-o",
    "--option",
    "option",
    type=click.Choice(list(OPTIONS)),
    default="add",
    show_default=True,
    help=(
        "status: Enabled/Disabled/Not configured; add: add or replace the configuration "
        "(prompts); enable / disable: the Thycotic flag; test-thycotic-script: test the "
        "default or custom script and the stored configuration."
    ),
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
@click.pass_context
def configure_thycotic(ctx: click.Context, /, option: str, config_path: str | None) -> None:
    """SAFE's Thycotic configure script: status, add, enable, disable, test-thycotic-script.

    Further options are passed to the command the option names (for add: --yes and its flags).
    """
    command = OPTIONS[option]
    args = [*(["--config", config_path] if config_path else []), *ctx.args]
    # The parent context already names "credchain configure-thycotic": add only "-o OPTION".
    with command.make_context(f"-o {option}", args, parent=ctx) as sub:
        command.invoke(sub)
