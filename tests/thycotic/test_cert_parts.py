"""Reading and inspecting a certificate secret's fields (``credchain_thycotic.certs``):
properties over generated field values, and expiry around a ``now`` that is passed in."""

from __future__ import annotations

import base64
import datetime

import pytest
from cert_helpers import key_pem, make_cert, pem, pfx_b64
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from credchain.errors import ProviderError
from credchain_thycotic.certs import (
    EXIT_EXPIRED,
    EXIT_EXPIRING,
    EXIT_KEY_MISMATCH,
    decode_pfx,
    inspect,
    read_parts,
)

CERT, KEY = make_cert("parts.example.com", days=30)
OTHER_CERT, OTHER_KEY = make_cert("other.example.com")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parts(**fields: tuple[str, bytes] | None):
    values = {"certificate": None, "private_key": None, "pfx": None, **fields}
    return read_parts("secret 9 'x'", password=None, **values)


@FAST
@given(st.binary(min_size=1, max_size=300), st.integers(min_value=1, max_value=80), st.booleans())
def test_a_base64_pfx_decodes_whatever_its_line_breaks(body: bytes, width: int, crlf: bool) -> None:
    der = b"\x30" + body
    text = base64.b64encode(der).decode()
    wrapped = ("\r\n" if crlf else "\n").join(
        text[i : i + width] for i in range(0, len(text), width)
    )
    assert decode_pfx(wrapped.encode() + b"\n") == der


@FAST
@given(st.binary(min_size=1, max_size=200))
def test_der_bytes_from_a_file_field_are_taken_as_they_are(body: bytes) -> None:
    assert decode_pfx(b"\x30" + body) == b"\x30" + body


@FAST
@given(
    st.sampled_from(["certificate", "private_key", "pfx"]),
    st.text(min_size=1, max_size=400),
)
def test_any_field_value_is_read_or_one_clear_error_without_the_value(kind: str, junk: str) -> None:
    value = ("CANARY-" + junk).encode("utf-8", "surrogatepass")
    fields: dict[str, tuple[str, bytes] | None] = {
        "certificate": ("Certificate", pem(CERT).encode())
    }
    fields[kind] = (kind.title(), value)
    try:
        _parts(**fields)
    except ProviderError as exc:
        message = str(exc)
        assert "CANARY" not in message
        assert "\n" not in message and message.startswith("secret 9 'x'")


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_as_a_pfx_are_read_or_one_clear_error(raw: bytes) -> None:
    # "CANARY" decodes to no DER sequence: this is never a PFX.
    with pytest.raises(ProviderError, match="field 'PFX'") as caught:
        _parts(pfx=("PFX", b"CANARY" + raw))
    assert "CANARY" not in str(caught.value)


def test_pem_parts_are_kept_as_they_are() -> None:
    text = pem(CERT).encode() + b"\n# a comment after it\n"
    parts = _parts(
        certificate=("Certificate", text), private_key=("Private Key", key_pem(KEY).encode())
    )
    assert parts.certificates_pem() == text
    assert parts.key_file() == key_pem(KEY).encode()
    assert "PRIVATE KEY" not in repr(parts)


def test_a_pfx_without_its_password_says_the_password_field_is_empty() -> None:
    with pytest.raises(
        ProviderError, match="cannot be opened without a password, and 'Password' is empty"
    ):
        _parts(pfx=("PFX", pfx_b64(CERT, KEY, "pw").encode()))


def test_a_pfx_opened_with_its_password() -> None:
    parts = read_parts(
        "s",
        certificate=None,
        private_key=None,
        pfx=("PFX", pfx_b64(CERT, KEY, "pw").encode()),
        password=("Password", SecretStr("pw")),
    )
    assert parts.from_pfx and parts.key is not None and parts.certificates == (CERT,)


NOW = CERT.not_valid_after_utc - datetime.timedelta(days=10)


@pytest.mark.parametrize(
    ("now", "warn_days", "status", "code"),
    [
        (NOW, None, "valid", 0),
        (NOW, 9, "valid", 0),
        (NOW, 10, "expiring", EXIT_EXPIRING),
        (CERT.not_valid_after_utc, 10, "expired", EXIT_EXPIRED),
        (
            CERT.not_valid_before_utc - datetime.timedelta(seconds=1),
            0,
            "not yet valid",
            EXIT_EXPIRED,
        ),
    ],
)
def test_the_status_at_now(
    now: datetime.datetime, warn_days: int | None, status: str, code: int
) -> None:
    verdict = inspect(
        _parts(certificate=("Certificate", pem(CERT).encode())), now=now, warn_days=warn_days
    )
    assert (verdict.status, verdict.exit_code()) == (status, code)


@FAST
@given(st.integers(min_value=-400, max_value=400), st.integers(min_value=0, max_value=400))
def test_expiring_means_within_warn_days(days_before_end: int, warn_days: int) -> None:
    now = CERT.not_valid_after_utc - datetime.timedelta(days=days_before_end, hours=1)
    verdict = inspect(
        _parts(certificate=("Certificate", pem(CERT).encode())), now=now, warn_days=warn_days
    )
    if now < CERT.not_valid_before_utc:
        assert verdict.status == "not yet valid"
    elif days_before_end < 0:
        assert verdict.status == "expired" and verdict.days_left < 0
    else:
        assert verdict.status == ("expiring" if days_before_end < warn_days else "valid")
        assert verdict.days_left == days_before_end


def test_a_key_of_another_certificate_is_a_mismatch() -> None:
    parts = _parts(
        certificate=("Certificate", pem(CERT).encode()),
        private_key=("Private Key", key_pem(OTHER_KEY).encode()),
    )
    verdict = inspect(parts, now=NOW)
    assert verdict.key_matches is False and verdict.exit_code() == EXIT_KEY_MISMATCH
