"""``credchain resolve``: one asset's credential, for people or (``--json``) for scanners.

Machine contract with ``--json``: the SAFE dict alone on stdout; the exit code tells the case
apart by the error's type (``credchain.cli.exits``: 0 found, 3 not found, 4 try later, 5 refused
or misconfigured, 6 disabled, 7 past ``--timeout``, 1 any other error), with one line on stderr
(control characters in it escaped, so it stays one line; with ``--error-json`` a JSON object)
and no log record unless ``--debug``. The query comes from the flags, or as a JSON object on
stdin when no flag is given. ``--inventory FILE`` resolves a whole scan (``credchain.cli.scan``).

``--timeout S`` bounds the whole call, the configuration's loading included: a watchdog thread
waits for the lookup, and past S the process prints its error and ends at once
(``os._exit``), so nothing is on stdout. The SAFE dict is only written after the lookup returned.

``--agent [SOCKET]`` asks a running ``credchain agent`` (``credchain.agent.Client``) instead of
walking the chain here, under the same contract and with the same lines for the same errors.
That path imports neither the resolver nor aiohttp, prometheus-client or rich: it is the one a
scanner calls per asset, so its start-up is the cost that matters (docs/agent.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from credchain.cli import machine_output
from credchain.cli.exits import (
    EXIT_FOUND,
    EXIT_LINES_FAILED,
    bounded,
    error_line,
)
from credchain.errors import CredchainError, CredentialNotFound, QueryError, TimedOut
from credchain.models import AssetQuery
from credchain.scan import Concurrency

if TYPE_CHECKING:
    from credchain.models import SafeCredential

#: ``resolve --help``'s list of exit codes (\b: click keeps the lines as they are)
EXIT_CODES_HELP = """\b
Exit codes (docs/scanner-integration.md):
  0  found
  1  any other error (a bad query, an unusable inventory file)
  2  usage error
  3  not found: every chain entry said "not here"
  4  try later: a vault (or the agent) is unavailable
  5  refused or misconfigured: login refused, access denied, TLS, config
  6  credchain is disabled ('credchain enable')
  7  no answer within --timeout
  8  --inventory: the scan ran, but some lines failed
"""
#: the most of stdin read for one query: a query is three short values
MAX_STDIN = 1024 * 1024


def _stdin_text() -> str:
    """The query text on stdin: UTF-8 (a BOM dropped), at most ``MAX_STDIN`` bytes."""
    stream = getattr(sys.stdin, "buffer", None)
    raw = stream.read(MAX_STDIN + 1) if stream is not None else sys.stdin.read().encode()
    if len(raw) > MAX_STDIN:
        raise QueryError(f"the query on stdin is larger than {MAX_STDIN // 1024 // 1024} MiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QueryError("the query on stdin is not UTF-8 text") from None


F = TypeVar("F", bound=Callable[..., Any])


def query_options(command: F) -> F:
    """The options of a query and where to ask it, shared by ``resolve`` and ``explain``:
    ``--config``, ``--agent [SOCKET]``, ``--asset-name``, ``--ip-address``, ``--cmdb-id``,
    ``--domain``."""
    for option in reversed(
        (
            click.option(
                "--config", "config_path", type=click.Path(dir_okay=False), help="Config file."
            ),
            click.option(
                "--agent",
                "agent_socket",
                is_flag=False,
                flag_value="",
                default=None,
                metavar="[SOCKET]",
                help="Ask a running 'credchain agent' on SOCKET [default: "
                "$CREDCHAIN_AGENT_SOCKET, else agent.sock in the home] instead of walking the "
                "chain here.",
            ),
            click.option("--asset-name", help="The asset's name."),
            click.option("--ip-address", help="The asset's IP address or host name."),
            click.option("--cmdb-id", help="The asset's CMDB id."),
            click.option("--domain", help="The asset's domain, when the scanner knows it."),
        )
    ):
        command = option(command)
    return command


class Width(click.ParamType[Concurrency]):
    """``auto`` (adaptive) or a number of lookups at once, 1 to 256."""

    name = "auto|N"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Concurrency:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text in ("auto", "adaptive"):
            return "adaptive"
        if text.isdigit() and 1 <= int(text) <= 256:
            return int(text)
        self.fail(f"{value!r} is not 'auto' nor a number from 1 to 256", param, ctx)


def read_query(
    asset_name: str | None, ip_address: str | None, cmdb_id: str | None, domain: str | None
) -> AssetQuery:
    if asset_name is None and ip_address is None and cmdb_id is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise QueryError(
                "give --asset-name, --ip-address or --cmdb-id, or a JSON query on stdin"
            )
        text = _stdin_text()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QueryError(f"the query on stdin is not JSON: {exc}") from None
        except RecursionError:
            raise QueryError(
                "the query on stdin is not JSON credchain takes: nested too deeply"
            ) from None
        except ValueError:  # int()'s digit limit
            raise QueryError(
                "the query on stdin is not JSON credchain takes: a number with too many digits"
            ) from None
        return AssetQuery.from_query_data(data)
    return AssetQuery.from_query_data(
        {
            key: value
            for key, value in (
                ("asset_name", asset_name),
                ("ip_address", ip_address),
                ("cmdb_id", cmdb_id),
                ("domain", domain),
            )
            if value is not None
        }
    )


def _lookup(query: AssetQuery, config_path: str | None, agent_socket: str | None) -> SafeCredential:
    """The credential: from the chain walked here, or (``agent_socket`` not None) the agent's."""
    if agent_socket is None:
        from credchain.resolver import Resolver

        with Resolver.from_config(config_path) as resolver:
            return resolver.resolve(query)
    from credchain.agent.client import Client

    with Client(agent_socket or None) as client:  # "": $CREDCHAIN_AGENT_SOCKET or the home's
        return client.resolve(query)


@click.command(epilog=EXIT_CODES_HELP)
@query_options
@click.option("--json", "as_json", is_flag=True, help="Print the SAFE dict only (machine use).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="S",
    help="Give up after S seconds, the whole call included (exit 7, nothing on stdout).",
)
@click.option(
    "--error-json",
    is_flag=True,
    help='Print an error as one JSON object on stderr: {"error": SLUG, "message", "exit_code"}.',
)
@click.option(
    "--inventory",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Resolve every asset of a CSV (with a header) or JSON-lines file; '-' reads stdin.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --inventory: write the JSON lines here instead of stdout.",
)
@click.option("--show-secrets", is_flag=True, help="With --inventory: include the SAFE dicts.")
@click.option(
    "--concurrency",
    default="auto",
    show_default=True,
    type=Width(),
    help="With --inventory: lookups at once, or 'auto': as many as the vault takes, "
    "fewer when it answers 429 or slows down.",
)
@click.option(
    "--max-concurrency",
    default=16,
    show_default=True,
    type=click.IntRange(1, 256),
    help="With --concurrency auto: the most lookups at once.",
)
@click.option(
    "--negative-ttl",
    type=click.FloatRange(min=0),
    help="With --inventory: remember 'not found' answers this many seconds.",
)
@click.pass_context
def resolve(
    ctx: click.Context,
    config_path: str | None,
    agent_socket: str | None,
    asset_name: str | None,
    ip_address: str | None,
    cmdb_id: str | None,
    domain: str | None,
    as_json: bool,
    timeout: float | None,
    error_json: bool,
    inventory: Path | None,
    output: Path | None,
    show_secrets: bool,
    concurrency: Concurrency,
    max_concurrency: int,
    negative_ttl: float | None,
) -> None:
    """Resolve one asset's credential, or a whole inventory, through the configured chain."""
    if as_json:
        machine_output()
    if agent_socket is not None and inventory is not None:
        raise click.UsageError(
            "--agent takes no --inventory: send the inventory's queries to the agent's "
            "POST /v1/resolve-many (docs/agent.md), or drop --agent"
        )
    if agent_socket is not None and config_path is not None:
        raise click.UsageError("--agent takes no --config: the agent answers with its own")
    for flag, given in (("--show-secrets", show_secrets), ("--output", output is not None)):
        if given and inventory is None:
            raise click.UsageError(f"{flag} goes with --inventory only")
    debug = bool(ctx.find_root().params.get("debug"))
    if inventory is not None:
        if as_json or asset_name or ip_address or cmdb_id:
            raise click.UsageError("--inventory takes no --json or asset flags")
        if timeout is not None:
            raise click.UsageError("--inventory takes no --timeout: each lookup has its deadline")
        ctx.exit(
            _scan(
                inventory,
                config_path,
                output=output,
                show_secrets=show_secrets,
                concurrency=concurrency,
                max_concurrency=max_concurrency,
                negative_ttl=negative_ttl,
                debug=debug,
                error_json=error_json,
            )
        )

    def lookup() -> tuple[AssetQuery, SafeCredential]:
        query = read_query(asset_name, ip_address, cmdb_id, domain)
        return query, _lookup(query, config_path, agent_socket)

    try:
        query, credential = bounded(lookup, timeout)
    except TimedOut as exc:
        line, code = error_line(exc, as_json=error_json)
        click.echo(line, err=True)
        sys.stderr.flush()
        # the lookup's thread cannot be stopped, and waiting for it is what --timeout forbids
        os._exit(code)
    except Exception as exc:  # the machine contract promises one line, never a traceback
        if debug and not isinstance(exc, CredentialNotFound):
            raise
        line, code = error_line(exc, as_json=error_json)
        click.echo(line, err=True)
        ctx.exit(code)
    if as_json:
        click.echo(json.dumps(credential.to_safe_dict()))
        return
    from credchain.cli.output import print_credential

    print_credential(credential, query)


def _scan(
    inventory: Path,
    config_path: str | None,
    *,
    output: Path | None,
    show_secrets: bool,
    concurrency: Concurrency,
    max_concurrency: int,
    negative_ttl: float | None,
    debug: bool,
    error_json: bool,
) -> int:
    """Run ``--inventory``; its exit code: 0, 8 when lines failed, or the error's code."""
    from credchain.cli.scan import run_inventory
    from credchain.resolver import Resolver

    try:
        with Resolver.from_config(config_path) as resolver:
            summary = run_inventory(
                resolver,
                inventory,
                output=output,
                show_secrets=show_secrets,
                concurrency=concurrency,
                max_concurrency=max_concurrency,
                negative_ttl=negative_ttl,
            )
    except CredchainError as exc:
        if debug:
            raise
        line, code = error_line(exc, as_json=error_json)
        click.echo(line, err=True)
        return code
    answered = summary.by_outcome["found"] + summary.by_outcome["not_found"]
    return EXIT_LINES_FAILED if summary.total > answered else EXIT_FOUND
