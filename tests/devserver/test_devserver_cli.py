"""``credchain dev-server`` as a process: the ready line, TLS, --data, signals, quiet logs."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ENTRY = "from credchain.cli import main; main()"


class Running:
    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-c", ENTRY, "dev-server", "--port", "0", *args]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.info: dict[str, Any] = json.loads(self.proc.stdout.readline())

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, out, err


@pytest.fixture
def running() -> Iterator[Running]:
    server = Running("--fault", "503:api/v1/secrets:count=1")
    yield server
    if server.proc.poll() is None:
        server.stop()


def _token(info: dict[str, Any]) -> str:
    form = {"grant_type": "password", **info["admin"]}
    verify = info["ca_cert"] or True
    response = requests.post(f"{info['url']}/oauth2/token", data=form, verify=verify, timeout=10)
    return str(response.json()["access_token"])


def test_ready_line_then_serves_tls(running: Running) -> None:
    info = running.info
    assert set(info) == {"url", "ca_cert", "fingerprint_sha256", "admin"}
    assert info["url"].startswith("https://127.0.0.1:") and info["url"].endswith("/SecretServer")
    assert len(info["fingerprint_sha256"].split(":")) == 32
    headers = {"Authorization": f"Bearer {_token(info)}"}
    url = f"{info['url']}/api/v1/secrets"
    first = requests.get(url, headers=headers, verify=info["ca_cert"], timeout=10)
    assert first.status_code == 503  # the --fault given on the command line
    assert requests.get(url, headers=headers, verify=info["ca_cert"], timeout=10).ok


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_with_cacert(running: Running) -> None:
    url = f"{running.info['url']}/api/v1/healthcheck"
    out = subprocess.run(
        ["curl", "-sS", "--cacert", running.info["ca_cert"], url],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    assert json.loads(out.stdout)["Healthy"] is True


def test_sigterm_stops_cleanly_removes_files_and_never_logs_secrets(running: Running) -> None:
    info = running.info
    _token(info)
    code, out, err = running.stop(signal.SIGTERM)
    assert code == 0 and out == ""
    assert "DEVELOPMENT ONLY" in err and "POST oauth2/token 200" in err
    assert info["admin"]["password"] not in err
    assert not Path(info["ca_cert"]).exists()


def test_sigint_stops(tmp_path: Path) -> None:
    code, _, _ = Running("--no-tls", "--quiet").stop(signal.SIGINT)
    assert code == 0


def test_data_file_and_admin_password(tmp_path: Path) -> None:
    data = {
        "admin": {"username": "root-admin"},
        "users": [{"username": "alice", "password": "pw-alice"}],
        "folders": [{"id": 10, "name": "Lab"}],
        "secrets": [
            {
                "name": "lab-01",
                "folderId": 10,
                "templateId": 6003,
                "items": {"machine": "lab-01", "username": "u", "password": "p"},
                "permissions": ["alice"],
            }
        ],
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    server = Running("--no-tls", "--data", str(path), "--admin-password", "given-pw")
    try:
        assert server.info["admin"] == {"username": "root-admin", "password": "given-pw"}
        assert server.info["ca_cert"] is None and server.info["url"].startswith("http://")
        headers = {"Authorization": f"Bearer {_token(server.info)}"}
        found = requests.get(f"{server.info['url']}/api/v1/secrets", headers=headers, timeout=10)
        assert [r["name"] for r in found.json()["records"]] == ["lab-01"]
    finally:
        server.stop()


def test_bad_fault_spec_is_a_usage_error() -> None:
    command = [sys.executable, "-c", ENTRY, "dev-server", "--fault", "teapot:*"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "unknown fault kind" in result.stderr
