"""``credchain demo``: resolve the demo inventory on the built-in dev server, and explain it."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from credchain.cli.output import console as make_console
from credchain.cli.output import mask, print_table
from credchain.cli.scan import ScanSummary
from credchain.scan import Resolution


@click.command()
def demo() -> None:
    """Run the main job on the built-in dev server: a whole scan through a three-entry chain."""
    from credchain.demo import FELL_THROUGH, demo_inventory, demo_run

    console = make_console(stderr=True)
    click.echo("Starting the dev Secret Server on 127.0.0.1 (TLS, demo data, in memory)…", err=True)
    with demo_run() as run:
        click.echo(f"  {run.server.url}  (certificate {run.server.fingerprint_sha256})", err=True)
        click.echo(
            "Chain: " + " -> ".join(f"{e.name} ({e.type_name})" for e in run.resolver.chain),
            err=True,
        )
        summary = ScanSummary()
        total = len(demo_inventory())
        with Progress(
            TextColumn("resolving"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("resolve", total=total)

            def advance(_done: int, result: Resolution) -> None:
                summary.add(result)
                progress.advance(task)

            results = run.scan(advance)
        print_table(
            ("asset", "provider", "rule", "username", "password"),
            [_row(result) for result in results],
            title=f"{total} assets",
        )
        for line in summary.lines(run.resolver):
            click.echo(line)
        click.echo()
        click.echo(
            f"Why {FELL_THROUGH.label()} got no credential "
            f"('credchain explain --asset-name NAME' shows this for your chain):"
        )
        trace = run.resolver.explain(FELL_THROUGH)
        print_table(
            ("entry", "type", "outcome", "reason", "ms"),
            [(s.entry, s.type, s.outcome, s.reason, f"{s.elapsed_ms:.1f}") for s in trace.steps],
        )
    click.echo("The dev server is stopped and the demo's home is removed.", err=True)


def _row(result: Resolution) -> tuple[str, str, str, str, str]:
    asset = result.query.label() if result.query is not None else "?"
    credential = result.credential
    if credential is None:
        failed_at = "-" if result.outcome == "not_found" else result.source or "-"
        return (asset, failed_at, result.outcome.replace("_", " "), "", "")
    return (
        asset,
        credential.source,
        credential.detail or "",
        credential.username,
        mask(credential.password.get_secret_value()),
    )
