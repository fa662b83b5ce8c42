"""TLS policies and fingerprint parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credchain.tls import TLSPolicy, format_fingerprint, normalize_fingerprint

digests = st.binary(min_size=32, max_size=32)


@given(digests, st.booleans(), st.booleans())
def test_fingerprint_accepted_with_or_without_colons_any_case(
    digest: bytes, colons: bool, upper: bool
) -> None:
    text = digest.hex(":") if colons else digest.hex()
    text = text.upper() if upper else text
    assert normalize_fingerprint(text) == digest.hex()
    assert format_fingerprint(text) == digest.hex(":").upper()


@pytest.mark.parametrize("value", ["", "abc", "zz" * 32, "aa" * 31, "aa" * 33])
def test_malformed_fingerprints_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        normalize_fingerprint(value)


def test_policy_is_pin_or_bundle_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        TLSPolicy(ca_bundle="/ca.pem", fingerprint_sha256="aa" * 32)


def test_policy_descriptions() -> None:
    assert TLSPolicy().describe() == "system trust store"
    assert TLSPolicy(ca_bundle="/ca.pem").describe() == "CA bundle /ca.pem"
    assert TLSPolicy(fingerprint_sha256="AB" * 32).describe().startswith("pinned certificate AB:AB")
    assert TLSPolicy(fingerprint_sha256="AB" * 32).pinned
