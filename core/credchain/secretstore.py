"""Secrets at rest: ``enc:`` values in the config, encrypted with a key kept in the home.

The key file (``secret.key``, mode 0600) holds a Fernet key (AES-128-CBC with HMAC-SHA256): a
value changed on disk fails its MAC and is reported, never half-decrypted. The first use of a
home creates the key under the home's lock and never replaces one that is there, so processes
starting together all end up with the same key. ``derive`` gives other uses of the home's key
(the shared cache's value and key-name keys) their own keys, never the key itself.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from credchain.errors import SecretStoreError
from credchain.files import create_exclusive, ensure_private_dir, home_lock
from credchain.home import KEY_FILE

__all__ = ["ENC_PREFIX", "SecretStore"]

ENC_PREFIX = "enc:"


class SecretStore:
    """Encrypts and decrypts config secrets with the home's key file."""

    def __init__(self, home: Path) -> None:
        self.key_path = home / KEY_FILE
        self._fernet: Fernet | None = None
        self._raw: bytes | None = None

    def _key(self, *, create: bool) -> Fernet:
        if self._fernet is None:
            if not self.key_path.exists():
                if not create:
                    raise SecretStoreError(
                        f"cannot decrypt: the key file {self.key_path} is missing"
                    )
                self._create_key()
            text = self.key_path.read_bytes().strip()
            try:
                self._fernet = Fernet(text)
                self._raw = base64.urlsafe_b64decode(text)
            except (ValueError, binascii.Error):
                raise SecretStoreError(f"the key file {self.key_path} is not a valid key") from None
        return self._fernet

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose``, derived from the home's key (HKDF-SHA256); the key
        file is created on first use, as ``encrypt`` does."""
        self._key(create=True)
        assert self._raw is not None
        info = f"credchain {purpose}".encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._raw)

    def _create_key(self) -> None:
        """Create the key file unless another process did first (then that key is used)."""
        home = self.key_path.parent
        if not home.exists():
            ensure_private_dir(home)
        with home_lock(home):
            create_exclusive(self.key_path, Fernet.generate_key())

    def encrypt(self, plain: str) -> str:
        """Encrypt ``plain`` for the config file; creates the key on first use."""
        return ENC_PREFIX + self._key(create=True).encrypt(plain.encode()).decode("ascii")

    def decrypt(self, value: str) -> str:
        """Decrypt an ``enc:`` value; raises ``SecretStoreError`` if it was tampered with."""
        if not value.startswith(ENC_PREFIX):
            raise SecretStoreError("not an encrypted value (no 'enc:' prefix)")
        try:
            return self._key(create=False).decrypt(value[len(ENC_PREFIX) :]).decode()
        except (InvalidToken, UnicodeDecodeError):
            raise SecretStoreError(
                f"an encrypted value does not match the key {self.key_path} (tampered or re-keyed)"
            ) from None

    @staticmethod
    def is_encrypted(value: object) -> bool:
        return isinstance(value, str) and value.startswith(ENC_PREFIX)
