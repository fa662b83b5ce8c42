"""The third-party path end to end: pip installs contrib/example-provider, a chain uses it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from credchain.testing.process import run_credchain

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "contrib" / "example-provider"


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """contrib/example-provider installed by pip into its own directory."""
    target = tmp_path_factory.mktemp("example-site")
    build = tmp_path_factory.mktemp("example-build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        cwd=build,
        capture_output=True,
        timeout=120,
    )
    return target


def credchain(site: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_credchain(home, *args, pythonpath=site, extra=env)


def test_installed_example_is_listed(example_site: Path, tmp_path: Path) -> None:
    result = credchain(example_site, tmp_path, "providers", "--json")
    assert result.returncode == 0, result.stderr
    listed = [item for item in json.loads(result.stdout) if item["name"] == "envvars"]
    assert len(listed) == 1
    assert listed[0]["distribution"] == "credchain-envvars"
    assert listed[0]["version"] == "0.1.0"
    assert listed[0]["error"] is None


def test_chain_falls_through_to_the_example(example_site: Path, tmp_path: Path) -> None:
    from credchain.testing.distributions import write_distribution

    write_distribution(
        example_site,
        "credchain-test-providers",
        "1.0",
        {"nothere": "credchain.testing.providers:NotHereProvider"},
    )
    (tmp_path / "credchain.toml").write_text(
        tomli_w.dumps(
            {
                "chain": ["empty", "lab"],
                "providers": {"empty": {"type": "nothere"}, "lab": {"type": "envvars"}},
            }
        )
    )
    result = credchain(
        example_site,
        tmp_path,
        "resolve",
        "--asset-name",
        "web-01.lab",
        "--json",
        LAB_CRED_WEB_01_LAB_USERNAME="labadmin",
        LAB_CRED_WEB_01_LAB_PASSWORD="lab-planted",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "username": "labadmin",
        "password": base64.b64encode(b"lab-planted").decode(),
    }


LAB = {"LAB_CRED_WEB_01_LAB_USERNAME": "labadmin", "LAB_CRED_WEB_01_LAB_PASSWORD": "lab-planted"}


def test_the_example_adds_a_command_of_its_own(example_site: Path, tmp_path: Path) -> None:
    from credchain.testing.secrets import assert_no_secrets

    listed = credchain(example_site, tmp_path, "--help")
    assert listed.returncode == 0, listed.stderr
    assert "envvars" in listed.stdout
    result = credchain(example_site, tmp_path, "envvars", **LAB)
    assert result.returncode == 0, result.stderr
    assert "WEB_01_LAB" in result.stdout and "labadmin" in result.stdout
    assert_no_secrets(result.stdout + result.stderr, ["lab-planted"])


def test_status_and_test_ask_the_example_through_the_protocols(
    example_site: Path, tmp_path: Path
) -> None:
    (tmp_path / "credchain.toml").write_text(
        tomli_w.dumps({"chain": ["lab"], "providers": {"lab": {"type": "envvars"}}})
    )
    status = credchain(example_site, tmp_path, "status")
    assert status.returncode == 0, status.stderr
    assert "variables LAB_CRED_<KEY>_*" in status.stdout
    tested = credchain(example_site, tmp_path, "test", "--asset-name", "web-01.lab", **LAB)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 asset(s) with LAB_CRED_* variables" in tested.stdout
