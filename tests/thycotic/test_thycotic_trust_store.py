"""Verify SSL = Yes trusts the host's store (OpenSSL's default paths), never certifi's bundle.

Seed 000's FAQ 7: an admin adds the internal CA to the host's store, then sets Verify SSL = Yes.
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` stand for the host's store here: OpenSSL reads its default
paths from them. Each test runs ``credchain resolve --json`` as a scanner would, in a process of
its own, so the store is read exactly as in production.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import tomli_w
from thycotic_helpers import MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer
from credchain.devserver.tls import make_identity
from credchain.errors import TLSVerificationError
from credchain.testing.process import run_credchain

ASSET = "web-01.corp.example.com"


def resolve_json(
    server: DevServer, home: Path, *, store: Path, extra_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``credchain resolve --json`` for ``ASSET``, with ``store`` as the host's CA file."""
    config = home / "credchain.toml"
    table = server.thycotic_table(ca_bundle=None, token_cache=False)
    config.write_text(tomli_w.dumps({"chain": ["thycotic"], "providers": {"thycotic": table}}))
    config.chmod(0o600)
    empty_dir = home / "no-ca-dir"
    empty_dir.mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "CREDCHAIN_HOME": str(home),
        "SSL_CERT_FILE": str(store),
        "SSL_CERT_DIR": str(empty_dir),
        # would decide under the old rules; must not: requests reads no environment
        "REQUESTS_CA_BUNDLE": str(server.ca_cert),
    }
    command = ["resolve", "--config", str(config), "--asset-name", ASSET, "--json"]
    return run_credchain(home, *command, environ=env, pythonpath=extra_path)


@pytest.fixture
def other_ca(tmp_path: Path) -> Path:
    """A CA that did not sign the dev server's certificate."""
    directory = tmp_path / "other"
    directory.mkdir()
    return make_identity(directory).ca_cert


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    return path


def test_a_ca_added_to_the_host_store_is_trusted(secret_server: DevServer, home: Path) -> None:
    result = resolve_json(secret_server, home, store=Path(str(secret_server.ca_cert)))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["username"] == "svc-scan"


def test_a_ca_missing_from_the_host_store_is_refused_in_one_line(
    secret_server: DevServer, home: Path, other_ca: Path
) -> None:
    result = resolve_json(secret_server, home, store=other_ca)
    assert (result.returncode, result.stdout) == (5, "")  # refused: TLS
    assert result.stderr.count("\n") == 1
    assert "system trust store" in result.stderr
    assert str(secret_server.fingerprint_sha256) in result.stderr


def test_certifi_bundle_does_not_decide(
    secret_server: DevServer, home: Path, other_ca: Path, tmp_path: Path
) -> None:
    # A certifi whose bundle is the dev server's CA: under the old rules it made the server
    # trusted although the host's store does not hold that CA (an admin removed it, say).
    fake = tmp_path / "fake-certifi"
    (fake / "certifi").mkdir(parents=True)
    (fake / "certifi" / "__init__.py").write_text(
        f"def where():\n    return {str(secret_server.ca_cert)!r}\n\n"
        "def contents():\n    with open(where()) as f:\n        return f.read()\n"
    )
    result = resolve_json(secret_server, home, store=other_ca, extra_path=fake)
    assert (result.returncode, result.stdout) == (5, ""), result.stderr
    assert "failed verification against the system trust store" in result.stderr


def test_a_ca_bundle_replaces_the_host_store(
    secret_server: DevServer,
    make_resolver: MakeResolver,
    other_ca: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(secret_server.ca_cert))  # the host trusts it...
    resolver = make_resolver(secret_server, ca_bundle=str(other_ca))  # ...the entry does not
    with pytest.raises(TLSVerificationError, match="against the CA bundle"):
        resolver.resolve(AssetQuery(asset_name=ASSET))
