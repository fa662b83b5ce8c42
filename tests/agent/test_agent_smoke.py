"""The agent end to end: started as a process, asked with curl and with the Python client."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import WEB

from credchain.devserver.demo_data import demo_password
from credchain.errors import CredentialNotFound
from credchain.models import encode_base64
from credchain.testing.agent import AgentProcess


def curl(agent: AgentProcess, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "-sS", "--unix-socket", str(agent.socket_path), *args, f"http://agent{path}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_gets_the_safe_dict(running_agent: AgentProcess) -> None:
    answer = curl(running_agent, "/v1/resolve", "-d", json.dumps({"asset_name": WEB}))
    assert json.loads(answer.stdout)["password"] == encode_base64(demo_password(WEB))


def test_the_python_client_raises_not_found(running_agent: AgentProcess) -> None:
    with running_agent.client() as client, pytest.raises(CredentialNotFound, match="nope"):
        client.resolve({"asset_name": "nope"})
