"""How a vault's TLS certificate is verified: system store, CA bundle or pinned fingerprint.

There is no "trust anything" mode: SAFE's "Verify SSL: No" means pin the SHA-256 fingerprint of
the server's certificate (seed 000, step 3.8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TLSPolicy", "format_fingerprint", "normalize_fingerprint"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def normalize_fingerprint(value: str) -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits.

    Accepts colons or spaces between bytes and any case; raises ``ValueError`` otherwise.
    """
    compact = re.sub(r"[\s:]", "", value).lower()
    if not _HEX64.fullmatch(compact):
        raise ValueError("a SHA-256 fingerprint is 64 hex digits, optionally separated by colons")
    return compact


def format_fingerprint(value: str) -> str:
    """The fingerprint as people see it: ``AA:BB:...`` (upper case, colon-separated)."""
    compact = normalize_fingerprint(value).upper()
    return ":".join(compact[i : i + 2] for i in range(0, len(compact), 2))


@dataclass(frozen=True, slots=True)
class TLSPolicy:
    """One of: the system trust store (default), a CA bundle file, or a pinned fingerprint."""

    ca_bundle: str | None = None
    fingerprint_sha256: str | None = None

    def __post_init__(self) -> None:
        if self.ca_bundle and self.fingerprint_sha256:
            raise ValueError("choose a CA bundle or a pinned fingerprint, not both")
        if self.fingerprint_sha256 is not None:
            object.__setattr__(
                self, "fingerprint_sha256", normalize_fingerprint(self.fingerprint_sha256)
            )

    @property
    def pinned(self) -> bool:
        return self.fingerprint_sha256 is not None

    def describe(self) -> str:
        if self.fingerprint_sha256 is not None:
            return f"pinned certificate {format_fingerprint(self.fingerprint_sha256)}"
        if self.ca_bundle:
            return f"CA bundle {self.ca_bundle}"
        return "system trust store"
