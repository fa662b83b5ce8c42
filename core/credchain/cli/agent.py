"""``credchain agent``: the configured chain as a long-running local service (docs/agent.md)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False),
    help="The Unix socket to listen on [default: agent.sock in the home].",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Also listen on TCP, with TLS and a bearer token (tls_cert, tls_key, token_file).",
)
@click.option(
    "--audit-log",
    type=click.Path(dir_okay=False),
    help="Write the audit log to this file (0600, rotated by size); '-' for stderr.",
)
@click.option(
    "--check", is_flag=True, help="Check the configuration and the [agent] table, then exit."
)
def agent(
    config_path: str | None,
    socket_path: str | None,
    listen: str | None,
    audit_log: str | None,
    check: bool,
) -> None:
    """Serve the configured chain to local scanners over a Unix socket (HTTP + JSON).

    SIGHUP reloads the configuration (a bad one is refused and the old one serves on);
    SIGTERM stops accepting, lets the requests in flight finish, and exits.
    """
    from credchain.agent.service import Agent

    overrides = {
        "socket": str(Path(socket_path).absolute()) if socket_path else None,
        "listen": listen,
        "audit_log": audit_log if audit_log in (None, "-") else str(Path(audit_log).absolute()),
    }
    if check:
        from credchain.agent.process import check_agent

        click.echo(check_agent(config_path, overrides))
        return
    from credchain.agent.process import print_ready, run

    service = Agent(config_path, overrides=overrides)
    try:
        run(service, ready=print_ready)
    finally:
        service.close()
