"""``credchain explain``: why an asset gets the credential it gets, or none: the chain walk's trace.

The query is given as to ``credchain resolve`` (flags, or a JSON object on stdin). Each chain
entry asked is one step: its outcome, the reason (keys and rules tried) and the time. The trace
never holds a secret (``credchain.trace``), and the walk's credential is never printed.
``--json`` prints ``Trace.to_dict()`` on one line; ``--agent`` asks a running agent's
``POST /v1/explain`` instead. Exit 0 when the trace is shown, whatever its outcome; an error
that stops the walk (configuration, disabled, bad query, no agent) exits as ``resolve`` does
(``credchain.cli.exits``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from credchain.cli import machine_output
from credchain.cli.exits import error_line
from credchain.cli.resolve import query_options, read_query
from credchain.models import AssetQuery


def _trace(query: AssetQuery, config_path: str | None, agent_socket: str | None) -> dict[str, Any]:
    """The walk's trace as a dict: walked here, or (``agent_socket`` not None) by the agent."""
    if agent_socket is None:
        from credchain.resolver import Resolver

        with Resolver.from_config(config_path) as resolver:
            return resolver.explain(query).to_dict()
    from credchain.agent.client import Client

    with Client(agent_socket or None) as client:
        return client.explain(query)


@click.command()
@query_options
@click.option("--json", "as_json", is_flag=True, help="Print the trace as one JSON object.")
@click.option("--error-json", is_flag=True, help="Print an error as one JSON object on stderr.")
@click.pass_context
def explain(
    ctx: click.Context,
    config_path: str | None,
    agent_socket: str | None,
    asset_name: str | None,
    ip_address: str | None,
    cmdb_id: str | None,
    domain: str | None,
    as_json: bool,
    error_json: bool,
) -> None:
    """Show the chain walk for one asset: each entry's outcome, reason and time; no secret.

    The query is given as to 'credchain resolve': flags, or a JSON object on stdin. Exit 0 when
    the trace is shown, whatever it found; other codes as 'credchain resolve --help' lists.
    """
    if as_json:
        machine_output()
    if agent_socket is not None and config_path is not None:
        raise click.UsageError("--agent takes no --config: the agent answers with its own")
    try:
        query = read_query(asset_name, ip_address, cmdb_id, domain)
        trace = _trace(query, config_path, agent_socket)
    except Exception as exc:  # one line, as resolve prints it
        if ctx.find_root().params.get("debug"):
            raise
        line, code = error_line(exc, as_json=error_json)
        click.echo(line, err=True)
        ctx.exit(code)
    if as_json:
        click.echo(json.dumps(trace))
        return
    from credchain.cli.output import print_table

    steps = trace.get("steps", [])
    print_table(
        ("entry", "type", "outcome", "reason", "ms"),
        [
            (s["entry"], s["type"], s["outcome"], s["reason"], f"{float(s['elapsed_ms']):.1f}")
            for s in steps
        ],
        title=f"{query.label()}: {trace.get('outcome')}",
    )
    if not steps:
        click.echo("no chain entries were asked")
