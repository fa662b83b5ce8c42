"""``credchain demo``: the main job runs to the end, shows no secret, leaves nothing behind."""

from __future__ import annotations

from click.testing import CliRunner

from credchain.cli.demo import demo
from credchain.demo import FELL_THROUGH, demo_inventory, demo_run
from credchain.devserver import DEMO_ASSETS, demo_password
from credchain.testing.secrets import assert_no_secrets


def test_demo_resolves_through_all_three_entries_and_explains_one() -> None:
    result = CliRunner().invoke(demo, [])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for source in ("\tthycotic\t", "\tdomain\t", "\tscript\t"):
        assert source in out
    assert f"{len(demo_inventory())} assets in" in out
    assert f"Why {FELL_THROUGH.label()} got no credential" in out
    assert "EXAMPLE is not one of domains" in out
    planted = [demo_password(f"{a.fqdn}") for a in DEMO_ASSETS] + ["plc-demo-pw"]
    assert_no_secrets(result.output, planted)


def test_demo_finds_every_known_asset_and_cleans_up() -> None:
    with demo_run() as run:
        results = run.scan()
        home = run.home
        assert home.exists()
    outcomes = {r.query.label(): r.outcome for r in results if r.query is not None}
    assert outcomes.pop(FELL_THROUGH.label()) == "not_found"
    assert set(outcomes.values()) == {"found"}
    assert not home.exists()
