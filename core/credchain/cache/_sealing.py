"""Names and values as a backend stores them: keyed hashes and authenticated ciphertext.

Both keys are derived from the home's ``secret.key`` (``SecretStore.derive``), so every node that
holds the same key file computes the same names and opens the same values, and nobody without it
learns what a name stands for or what a value holds. A value is AES-256-GCM with a random nonce;
its name is the associated data, so a value copied under another name does not open either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SealBroken", "Sealer"]

_VERSION = b"\x01"
_NONCE = 12


class SealBroken(Exception):
    """A value that does not open: tampered with, truncated, or sealed with another key."""


class Sealer:
    """Names entries and seals their values with keys derived from the home's key.

    ``keys()`` gives ``(naming key, value key)``; it is called on first use, so a cache that is
    never used never reads (or creates) the home's key file.
    """

    __slots__ = ("_aead", "_keys", "_lock", "_naming")

    def __init__(self, keys: Callable[[], tuple[bytes, bytes]]) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        self._naming = b""
        self._aead: AESGCM | None = None

    def __repr__(self) -> str:
        return "Sealer(<keys hidden>)"

    def _ready(self) -> AESGCM:
        if self._aead is None:
            with self._lock:
                if self._aead is None:
                    naming, value = self._keys()
                    self._naming = naming
                    self._aead = AESGCM(value)
        return self._aead

    def name(self, kind: str, material: bytes) -> str:
        """The hex HMAC-SHA256 of ``kind`` and ``material``: the same on every node."""
        self._ready()
        digest = hmac.new(self._naming, kind.encode() + b"\0" + material, hashlib.sha256)
        return digest.hexdigest()

    def seal(self, name: str, plain: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._ready().encrypt(nonce, plain, _VERSION + name.encode())

    def open(self, name: str, sealed: bytes) -> bytes:
        """The plain value; ``SealBroken`` if it was not sealed under ``name`` with our key."""
        if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _VERSION:
            raise SealBroken("not a sealed value")
        nonce = sealed[1 : 1 + _NONCE]
        try:
            return self._ready().decrypt(nonce, sealed[1 + _NONCE :], _VERSION + name.encode())
        except InvalidTag:
            raise SealBroken("the value does not open with this key under this name") from None
