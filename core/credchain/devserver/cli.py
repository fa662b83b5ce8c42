"""``credchain dev-server``: run the dev Secret Server until SIGINT or SIGTERM."""

from __future__ import annotations

import json
import logging
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import click

from .faults import parse_fault
from .server import DEFAULT_TOKEN_TTL, DevServer, DevServerOptions

__all__ = ["dev_server", "how_to_configure"]

#: an asset of the demo data, for the sanity test of ``credchain add``
DEMO_ASSET = "web-01.corp.example.com"

WARNING = (
    "WARNING: credchain dev-server is for DEVELOPMENT ONLY. It keeps demo credentials in memory, "
    "its certificate is throw-away and its /_dev control endpoints are unauthenticated. "
    "Never point a production scanner at it."
)


def how_to_configure(info: dict[str, Any]) -> str:
    """What a person at a terminal runs to point credchain at the server (``vault -dev`` style)."""
    parts = urlsplit(str(info["url"]))
    if parts.scheme != "https":
        return "\n(plain http: credchain add needs HTTPS; run the dev server without --no-tls)\n"
    admin = info["admin"]
    return "\n".join(
        [
            "",
            "The dev server is running. To configure credchain against it:",
            "",
            f"    export CREDCHAIN_THYCOTIC_PASSWORD={shlex.quote(str(admin['password']))}",
            f"    credchain add --yes --url https://{parts.hostname} --port {parts.port} "
            f"--username {admin['username']} --verify-ssl --ca-bundle {info['ca_cert']} "
            f"--test-value {DEMO_ASSET}",
            "",
            "or pin its certificate instead of --verify-ssl --ca-bundle:",
            f"    --no-verify-ssl --fingerprint {info['fingerprint_sha256']}",
            "",
            f"Then: credchain test; credchain resolve --asset-name {DEMO_ASSET}",
            "",
        ]
    )


def _faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    for value in values:
        try:
            parse_fault(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return list(values)


@click.command("dev-server")
@click.option("--port", default=8443, show_default=True, help="TCP port; 0 picks a free one.")
@click.option("--no-tls", is_flag=True, help="Plain HTTP instead of HTTPS.")
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Serve this dataset (JSON: users, folders, templates, secrets) instead of the demo data.",
)
@click.option(
    "--cert-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Keep the CA and server certificate in DIR across restarts (made there the first time).",
)
@click.option("--admin-password", envvar="CREDCHAIN_DEV_ADMIN_PASSWORD", help="Default: random.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Added to every API request.")
@click.option("--token-ttl", default=DEFAULT_TOKEN_TTL, show_default=True, help="Seconds.")
@click.option("--refresh-tokens/--no-refresh-tokens", default=True, show_default=True)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    callback=_faults,
    metavar="KIND:ROUTE[:OPTS]",
    help="Inject a fault, e.g. '429:api/v1/secrets:count=2,retry_after=1'. Repeatable.",
)
@click.option(
    "--require-client-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="CA",
    help="Mutual TLS: refuse at the handshake a client without a certificate this CA signed.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="R",
    help="API requests per second per account; over it: 429 with Retry-After.",
)
@click.option(
    "--rate-limit-burst",
    type=click.FloatRange(min=1),
    metavar="N",
    help="With --rate-limit: requests an account may send at once.  [default: R]",
)
@click.option("--quiet", is_flag=True, help="Do not log each request.")
def dev_server(
    port: int,
    no_tls: bool,
    data: Path | None,
    admin_password: str | None,
    latency_ms: float,
    token_ttl: int,
    refresh_tokens: bool,
    faults: list[str],
    require_client_cert: Path | None,
    rate_limit: float | None,
    rate_limit_burst: float | None,
    quiet: bool,
    cert_dir: Path | None,
) -> None:
    """Run a Secret Server REST API v1 look-alike on 127.0.0.1 (development only).

    When ready it prints one JSON line on stdout (url, ca_cert, fingerprint_sha256, admin) and
    then logs to stderr only; on a terminal it also says how to point credchain at it.
    """
    # Our own handler: the root logger is set up (at WARNING) by the credchain group.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    server_log = logging.getLogger("credchain.devserver")
    server_log.addHandler(handler)
    server_log.setLevel(logging.WARNING if quiet else logging.INFO)
    server_log.propagate = False
    click.echo(WARNING, err=True)
    options = DevServerOptions(
        port=port,
        tls=not no_tls,
        data=data,
        admin_password=admin_password,
        latency_ms=latency_ms,
        token_ttl=token_ttl,
        refresh_tokens=refresh_tokens,
        faults=list(faults),
        require_client_cert=require_client_cert,
        cert_dir=cert_dir,
        rate_limit=rate_limit,
        rate_limit_burst=rate_limit_burst,
    )
    if require_client_cert is not None and no_tls:
        raise click.UsageError("--require-client-cert needs TLS (drop --no-tls)")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with DevServer(options) as server:
        sys.stdout.write(json.dumps(server.ready_info()) + "\n")
        if sys.stdout.isatty():
            sys.stdout.write(how_to_configure(server.ready_info()))
        sys.stdout.flush()
        click.echo(f"dev-server listening on {server.url}", err=True)
        while not stop.wait(0.5):
            pass
    click.echo("dev-server stopped", err=True)
