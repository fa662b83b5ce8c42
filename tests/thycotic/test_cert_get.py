"""``credchain cert get``: the dev server's demo certificates, over real TLS, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cert_helpers import (
    CERTIFICATE_TEMPLATE,
    cert_get,
    config_for,
    key_pem,
    make_cert,
    pem,
    pfx_b64,
    written,
)
from cryptography.hazmat.primitives.serialization import pkcs12

from credchain.devserver import DevServer, FileValue
from credchain.devserver.demo_certs import PFX_PASSWORD
from credchain_thycotic.cert_cmd import CERT_FILE, KEY_FILE, PFX_FILE

VALID, EXPIRING, EXPIRED, MISMATCHED, PROTECTED = 501, 502, 503, 504, 505
WriteConfig = Callable[[dict[str, object]], Path]


@pytest.fixture
def configured(secret_server: DevServer, write_config: WriteConfig) -> DevServer:
    write_config(config_for(secret_server))
    return secret_server


def test_a_valid_certificate_is_written_with_mode_0600_and_inspected(
    configured: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = cert_get(str(VALID), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert written(out) == {CERT_FILE: 0o600, PFX_FILE: 0o600, KEY_FILE: 0o600}
    assert out.stat().st_mode & 0o777 == 0o700
    assert "certificate 1: CN=app.demo.example.com" in result.output
    assert "DNS:www.app.demo.example.com, IP:10.0.2.10" in result.output
    assert "matches certificate 1" in result.output
    assert "chain: in order" in result.output
    assert "status: valid" in result.output


def test_pem_fields_are_written_as_they_are_and_the_pfx_decoded(
    configured: DevServer, tmp_path: Path
) -> None:
    secret = configured.store.secrets[VALID]
    assert cert_get(str(VALID), "--out", str(tmp_path)).exit_code == 0
    assert (tmp_path / CERT_FILE).read_text() == secret.value("certificate")
    assert (tmp_path / KEY_FILE).read_text() == secret.value("private-key")
    pfx = pkcs12.load_pkcs12((tmp_path / PFX_FILE).read_bytes(), None)
    assert (
        pfx.cert is not None
        and "app.demo.example.com" in pfx.cert.certificate.subject.rfc4514_string()
    )


def test_the_json_names_the_files_and_holds_no_secret(
    configured: DevServer, tmp_path: Path
) -> None:
    result = cert_get(str(PROTECTED), "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["files"] == {
        "certificate": str(tmp_path / CERT_FILE),
        "private_key": str(tmp_path / KEY_FILE),
        "pfx": str(tmp_path / PFX_FILE),
    }
    assert document["private_key"] == {"type": "RSA", "size": 1024, "matches_certificate": True}
    assert document["certificates"][0]["key_type"] == "RSA"
    assert document["chain"] == {"in_order": True, "problem": None}
    assert document["status"] == "valid" and document["exit_code"] == 0
    assert PFX_PASSWORD not in result.output and "PRIVATE KEY" not in result.output


def test_a_pfx_with_a_password_is_opened_with_its_password_field(
    configured: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = cert_get(str(PROTECTED), "--out", str(out))
    assert result.exit_code == 0, result.output
    # Only a PFX in the secret: the certificate and key files come out of it.
    assert written(out) == {CERT_FILE: 0o600, PFX_FILE: 0o600, KEY_FILE: 0o600}
    assert "BEGIN PRIVATE KEY" in (out / KEY_FILE).read_text()
    assert "RSA, 1024 bits; matches certificate 1" in result.output
    pkcs12.load_pkcs12((out / PFX_FILE).read_bytes(), PFX_PASSWORD.encode())
    assert PFX_PASSWORD not in result.output


def test_a_wrong_pfx_password_is_one_error_and_writes_nothing(
    configured: DevServer, tmp_path: Path
) -> None:
    configured.store.secrets[PROTECTED].items["password"] = "not-the-password"
    out = tmp_path / "out"
    result = cert_get(str(PROTECTED), "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "credchain: error: secret 505 'demo-cert pfx with password': field 'PFX' is not a PFX "
        "(PKCS#12) file that 'Password' opens"
    )
    assert not out.exists()
    assert "not-the-password" not in result.output


def test_expiring_within_warn_days_exits_4(configured: DevServer, tmp_path: Path) -> None:
    result = cert_get(str(EXPIRING), "--out", str(tmp_path), "--warn-days", "30")
    assert result.exit_code == 4, result.output
    assert "status: expiring (9 days left)" in result.output


def test_expiring_later_than_warn_days_exits_0(configured: DevServer, tmp_path: Path) -> None:
    assert cert_get(str(EXPIRING), "--out", str(tmp_path), "--warn-days", "5").exit_code == 0


def test_an_expired_certificate_exits_5_with_warn_days(
    configured: DevServer, tmp_path: Path
) -> None:
    result = cert_get(str(EXPIRED), "--out", str(tmp_path), "--warn-days", "0", "--json")
    assert result.exit_code == 5, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "expired" and document["days_left"] == -5
    assert document["exit_code"] == 5


def test_an_expired_certificate_is_still_written(configured: DevServer, tmp_path: Path) -> None:
    result = cert_get(str(EXPIRED), "--out", str(tmp_path))
    assert result.exit_code == 0  # without --warn-days the dates do not decide the exit status
    assert "status: expired (expired 5 days ago)" in result.output
    assert (tmp_path / CERT_FILE).exists()


def test_a_mismatched_key_exits_6_and_says_so(configured: DevServer, tmp_path: Path) -> None:
    result = cert_get(str(MISMATCHED), "--out", str(tmp_path))
    assert result.exit_code == 6, result.output
    assert "DOES NOT MATCH certificate 1" in result.output


def test_a_chain_out_of_order_is_reported(configured: DevServer, tmp_path: Path) -> None:
    ca = make_cert("Order CA", ca=True)
    leaf, key = make_cert("leaf.example.com", issuer=ca)
    secret_id = configured.add_secret(
        "reversed chain",
        {"certificate": pem(ca[0]) + pem(leaf), "private-key": key_pem(key)},
        template_id=CERTIFICATE_TEMPLATE,
    )
    result = cert_get(str(secret_id), "--out", str(tmp_path), "--json")
    document = json.loads(result.stdout)
    assert document["chain"]["in_order"] is False
    assert "did not issue certificate 1 (CN=Order CA)" in document["chain"]["problem"]


def test_an_encrypted_pem_key_is_opened_with_the_password_field(
    configured: DevServer, tmp_path: Path
) -> None:
    cert, key = make_cert()
    secret_id = configured.add_secret(
        "encrypted key",
        {
            "certificate": pem(cert),
            "private-key": key_pem(key, "key-pass-4711"),
            "password": "key-pass-4711",
        },
        template_id=CERTIFICATE_TEMPLATE,
    )
    result = cert_get(str(secret_id), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    # Written as is: still encrypted on disk.
    assert "ENCRYPTED PRIVATE KEY" in (tmp_path / KEY_FILE).read_text()
    assert "key-pass-4711" not in result.output


def test_a_certificate_in_a_file_field_is_fetched(
    secret_server_factory: Callable[..., DevServer], write_config: WriteConfig, tmp_path: Path
) -> None:
    from credchain.devserver import Dataset, SecretSpec, TemplateSpec
    from credchain.devserver.datafile import TemplateField

    cert, key = make_cert("file.example.com")
    template = TemplateSpec(
        id=9000,
        name="Pfx Certificate",
        fields=[
            TemplateField(field_id=1, name="Pfx File", slug="pfx-file", is_file=True),
            TemplateField(field_id=2, name="Pfx Password", slug="pfx-password", is_password=True),
        ],
    )
    items: dict[str, str | FileValue] = {
        "pfx-file": FileValue(filename="made.pfx", content=pfx_b64(cert, key, "pfx-pw-1")),
        "pfx-password": "pfx-pw-1",
    }
    data = Dataset(
        templates=[template], secrets=[SecretSpec(id=7, name="f", items=items, template_id=9000)]
    )
    server = secret_server_factory(data=data)
    write_config(config_for(server))
    result = cert_get("7", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "certificate 1: CN=file.example.com" in result.output
    assert server.get_stats()["requests"]["GET api/v1/secrets/{id}/fields/{slug}"] == 1


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"certificate": "not a certificate"}, "field 'Certificate' holds no PEM certificate"),
        (
            {"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
            "field 'Certificate' holds a PEM certificate that cannot be read",
        ),
        ({"pfx": "%%% not base64 %%%"}, "field 'PFX' is not base64 of a PFX (PKCS#12) file"),
        ({"certificate": "", "pfx": ""}, "holds no certificate: its certificate and PFX are empty"),
    ],
)
def test_bad_content_is_one_error_naming_the_field(
    configured: DevServer, tmp_path: Path, items: dict[str, str], message: str
) -> None:
    secret_id = configured.add_secret("bad", items, template_id=CERTIFICATE_TEMPLATE)
    result = cert_get(str(secret_id), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_secret_of_another_template_names_its_fields(
    configured: DevServer, tmp_path: Path
) -> None:
    result = cert_get("1", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "has no certificate or PFX field; its fields are Machine, Username" in result.stderr


def test_a_named_field_must_exist(configured: DevServer, tmp_path: Path) -> None:
    result = cert_get(str(VALID), "--out", str(tmp_path), "--pfx-field", "Pfx File")
    assert result.exit_code == 1
    assert "has no field 'Pfx File'" in result.stderr


def test_the_entry_is_chosen_by_name(
    secret_server: DevServer, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(
        {
            "chain": ["script", "second"],
            "providers": {
                "script": {"type": "custom-script"},
                "second": secret_server.thycotic_table(type="thycotic"),
            },
        }
    )
    assert cert_get(str(VALID), "--out", str(tmp_path), "--entry", "second").exit_code == 0
    # Without --entry: the first thycotic entry of the chain.
    assert cert_get(str(VALID), "--out", str(tmp_path)).exit_code == 0
    wrong = cert_get(str(VALID), "--out", str(tmp_path), "--entry", "script")
    assert "entry 'script' is of type 'custom-script', not 'thycotic'" in wrong.stderr
    missing = cert_get(str(VALID), "--out", str(tmp_path), "--entry", "nope")
    assert "no entry 'nope' (thycotic entries: second)" in missing.stderr


def test_a_file_in_place_of_the_out_directory_is_one_error(
    configured: DevServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cert_get(str(VALID), "--out", str(blocker / "sub"))
    assert result.exit_code == 1 and "for --out" in result.stderr


def test_a_pipeline_sees_exit_4_and_json_alone_on_stdout(
    configured: DevServer, home: Path, tmp_path: Path
) -> None:
    from credchain.testing.process import run_credchain

    out = tmp_path / "out"
    args = ("cert", "get", str(EXPIRING), "--out", str(out), "--warn-days", "30", "--json")
    result = run_credchain(home, *args)
    assert result.returncode == 4, result.stderr
    assert json.loads(result.stdout)["status"] == "expiring"
    assert result.stderr == ""
