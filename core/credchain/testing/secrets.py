"""Check that planted secret values never show up in captured output."""

from __future__ import annotations

from collections.abc import Iterable

from credchain.models import encode_base64

__all__ = ["assert_no_secrets"]


def assert_no_secrets(captured: str, secrets: Iterable[str]) -> None:
    """Fail if any secret, or its base64 form, appears in ``captured``."""
    for secret in secrets:
        for form in (secret, encode_base64(secret)):
            assert form not in captured, "a planted secret value leaked into the captured output"
