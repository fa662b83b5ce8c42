"""The dev server's certificate template, its demo certificates, and --require-client-cert."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import Client
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from credchain.devserver import make_client_identity
from credchain.devserver.demo_certs import DEMO_CERTIFICATES, PFX_PASSWORD, demo_certificates

ENTRY = "from credchain.cli import main; main()"


def test_the_certificate_template_has_seed_004s_fields(admin: Client) -> None:
    template = admin.get("api/v1/secret-templates/6200").json()
    names = [f["displayName"] if "displayName" in f else f["name"] for f in template["fields"]]
    assert names == ["Certificate", "Private Key", "PFX", "Password", "Notes"]


def test_the_demo_certificates_are_in_their_folder_for_the_scanner(scanner: Client) -> None:
    found = scanner.get("api/v1/secrets", **{"filter.folderId": 7, "take": 50}).json()
    assert [(r["id"], r["name"]) for r in found["records"]] == sorted(
        ((i, n) for i, n, _ in DEMO_CERTIFICATES), key=lambda pair: pair[1]
    )


def test_the_demo_pfx_with_a_password_opens_with_it(admin: Client) -> None:
    items = {i["slug"]: i["itemValue"] for i in admin.get("api/v1/secrets/505").json()["items"]}
    assert items["password"] == PFX_PASSWORD and items["certificate"] == ""
    loaded = pkcs12.load_pkcs12(base64.b64decode(items["pfx"]), PFX_PASSWORD.encode())
    assert loaded.key is not None and loaded.cert is not None


def test_the_demo_certificates_are_made_once_per_process() -> None:
    assert demo_certificates() is demo_certificates()
    expired = x509.load_pem_x509_certificates(demo_certificates()[2].items["certificate"].encode())
    assert expired[0].not_valid_after_utc < expired[1].not_valid_after_utc


def test_the_cli_requires_a_client_certificate(tmp_path: Path) -> None:
    identity = make_client_identity(tmp_path)
    command = [sys.executable, "-c", ENTRY, "dev-server", "--port", "0", "--quiet"]
    proc = subprocess.Popen(
        [*command, "--require-client-cert", str(identity.ca_cert)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        url = f"{info['url']}/api/v1/healthcheck"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, verify=info["ca_cert"], timeout=10)
        cert = (str(identity.cert), str(identity.key))
        answer = requests.get(url, verify=info["ca_cert"], cert=cert, timeout=10)
        assert answer.json()["Healthy"] is True
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_the_cli_refuses_require_client_cert_without_tls(tmp_path: Path) -> None:
    identity = make_client_identity(tmp_path)
    command = [sys.executable, "-c", ENTRY, "dev-server", "--port", "0", "--no-tls"]
    result = subprocess.run(
        [*command, "--require-client-cert", str(identity.ca_cert)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "--require-client-cert needs TLS" in result.stderr
