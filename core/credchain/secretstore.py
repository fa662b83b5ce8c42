"""Secrets at rest: ``enc:`` values in the config, encrypted with a key kept in the home.

The key file (``secret.key``, mode 0600) holds a Fernet key (AES-128-CBC with HMAC-SHA256): a
value changed on disk fails its MAC and is reported, never half-decrypted. The first use of a
home creates the key under the home's lock and never replaces one that is there, so processes
starting together all end up with the same key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

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

    def _key(self, *, create: bool) -> Fernet:
        if self._fernet is None:
            if not self.key_path.exists():
                if not create:
                    raise SecretStoreError(
                        f"cannot decrypt: the key file {self.key_path} is missing"
                    )
                self._create_key()
            try:
                self._fernet = Fernet(self.key_path.read_bytes().strip())
            except ValueError:
                raise SecretStoreError(f"the key file {self.key_path} is not a valid key") from None
        return self._fernet

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
