"""The ``credchain`` command line.

Sub-commands are imported only when they run, so ``credchain resolve --json`` (called once per
asset by scanners that are not written in Python) does not pay for the dev server or the admin
commands. A ``CredchainError`` ends the command with one line on stderr and exit code 1; the
traceback only with ``--debug``, which every command also accepts after its name. ``NO_COLOR``
turns colour off (``credchain.cli.output``).

Log records reach stderr through ``CliLogHandler``: credchain's own warnings; those of libraries
(urllib3, stevedore, Python's ``warnings``) only with ``--debug``, and then without the query
strings of their URLs; nothing at all under ``resolve --json`` unless ``--debug``, as that
stderr is the machine interface's one line.

Provider distributions add commands through the entry-point group ``credchain.commands``: the
entry point's name is the command's, its target a ``click.Command``. The thycotic plugin brings
``add`` and ``configure-thycotic``, the custom-script plugin ``script``. A core command's name
cannot be taken; a command that fails to load says which distribution it came from.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
from typing import Any

import click

from credchain.cli.output import no_color
from credchain.errors import CredchainError, PluginLoadError

#: the entry-point group through which distributions add commands
COMMAND_GROUP = "credchain.commands"
log = logging.getLogger(__name__)

#: the query string of a URL in a library's log message (it names assets)
_QUERY = re.compile(r"\?[^\s'\"]+")
QUERY_REMOVED = "?<query>"


def is_own_logger(name: str) -> bool:
    """Whether a logger is credchain's: the framework's, or a ``credchain_*`` provider's."""
    return name == "credchain" or name.startswith(("credchain.", "credchain_"))


class CliLogHandler(logging.Handler):
    """The command line's log output, on the stderr of the moment (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.debug = False
        self.machine = False
        self.setFormatter(logging.Formatter("credchain: %(levelname)s: %(name)s: %(message)s"))

    def shows(self, record: logging.LogRecord) -> bool:
        if self.debug:
            return True
        return not self.machine and is_own_logger(record.name)

    def emit(self, record: logging.LogRecord) -> None:
        if not self.shows(record):
            return
        try:
            text = self.format(record)
            if not is_own_logger(record.name):
                text = _QUERY.sub(QUERY_REMOVED, text)
            click.echo(text, err=True)
        except Exception:
            self.handleError(record)


#: installed on the root logger by ``main`` unless something else already handles logging
LOG_HANDLER = CliLogHandler()


def setup_logging(debug: bool) -> None:
    """Send log records to stderr through ``LOG_HANDLER``, as the module docstring says.

    Like ``logging.basicConfig``, this leaves alone a process whose root logger already has
    handlers (an application embedding the CLI, or pytest).
    """
    LOG_HANDLER.debug, LOG_HANDLER.machine = debug, False
    root = logging.getLogger()
    if LOG_HANDLER not in root.handlers:
        if root.handlers:
            return
        root.addHandler(LOG_HANDLER)
        logging.captureWarnings(True)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def machine_output() -> None:
    """Keep every log record off stderr from now on, unless ``--debug`` (``resolve --json``)."""
    LOG_HANDLER.machine = True


#: command name -> "module:attribute" of its click command: the core's own
COMMANDS: dict[str, str] = {
    "agent": "credchain.cli.agent:agent",
    "cache": "credchain.cli.cache:cache",
    "chain": "credchain.cli.chain:chain",
    "demo": "credchain.cli.demo:demo",
    "dev-server": "credchain.devserver.cli:dev_server",
    "disable": "credchain.cli.admin:disable",
    "enable": "credchain.cli.admin:enable",
    "explain": "credchain.cli.explain:explain",
    "providers": "credchain.cli.providers:providers",
    "resolve": "credchain.cli.resolve:resolve",
    "status": "credchain.cli.admin:status",
    "test": "credchain.cli.testcmd:test",
}


def plugin_commands() -> dict[str, importlib.metadata.EntryPoint]:
    """The commands distributions add, by name (the core's names excluded), not yet imported."""
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=COMMAND_GROUP):
        if ep.name in COMMANDS:
            log.warning("ignored command %r of %s: a core command has that name", ep.name, ep.value)
            continue
        found.setdefault(ep.name, ep)
    return found


def _load_plugin_command(ep: importlib.metadata.EntryPoint) -> click.Command:
    dist = ep.dist.name if ep.dist is not None else None
    origin = f"command {ep.name!r}" + (f" (distribution {dist})" if dist else "")
    try:
        command = ep.load()
    except Exception as exc:  # a broken plugin must not hide the others
        raise PluginLoadError(
            f"{origin} failed to load: {type(exc).__name__}: {exc}", name=ep.name, distribution=dist
        ) from None
    if not isinstance(command, click.Command):
        raise PluginLoadError(
            f"{origin} is {type(command).__name__}, not a click command ({ep.value})",
            name=ep.name,
            distribution=dist,
        )
    return command


def _debug_after(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:  # what ``credchain --debug`` does, for ``credchain CMD --debug``
        ctx.find_root().params["debug"] = True
        setup_logging(True)


def accept_debug(command: click.Command) -> click.Command:
    """Give ``command`` (and a group's sub-commands) a ``--debug`` flag meaning the group's, so
    it may come after the command name; a command with its own ``--debug`` keeps it."""
    if not any("--debug" in getattr(param, "opts", ()) for param in command.params):
        command.params.append(
            click.Option(
                ["--debug"],
                is_flag=True,
                expose_value=False,
                is_eager=True,  # before the other options' callbacks, so they log too
                callback=_debug_after,
                help="Log debug messages and show tracebacks (as 'credchain --debug').",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_debug(sub)
    return command


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use, and that reports our errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS, *plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is not None:
            module_name, _, attribute = target.partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return accept_debug(command)
        ep = plugin_commands().get(cmd_name)
        if ep is not None:
            return accept_debug(_load_plugin_command(ep))
        found = super().get_command(ctx, cmd_name)
        return found if found is None else accept_debug(found)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``; a plugin command that fails to load is marked."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows = []
        for name in names:
            try:
                command = self.get_command(ctx, name)
            except PluginLoadError:
                rows.append((name, "BROKEN: fails to load (run it to see why)"))
                continue
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if no_color():  # sub-commands' contexts inherit it: click.secho's styles are stripped
            extra.setdefault("color", False)
        return super().make_context(info_name, args, parent, **extra)

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
    setup_logging(debug)
