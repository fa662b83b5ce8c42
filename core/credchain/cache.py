"""Vault access tokens cached on disk, encrypted, so a run reuses the token of the run before.

One file per vault account, ``HOME/cache/tokens/<identity>.token``, written atomically with mode
0600. The identity is the SHA-256 of the token URL, the grant, the account (username or client
id) and its domain: it names the file and never contains a password. The file holds the token,
its refresh token and its expiry, encrypted with the home's secret key (``secret.key``, Fernet:
AES-128-CBC with HMAC-SHA256), and the identity again inside the ciphertext, so a file that was
changed, re-keyed or copied over another account's file is detected, logged (by file name only)
and discarded. Expired entries are deleted when read. ``credchain cache clear`` deletes them all.

Reading or writing the cache never fails a lookup: a cache that cannot be used is a cache miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from credchain.errors import SecretStoreError
from credchain.files import atomic_write, ensure_private_dir
from credchain.home import TOKEN_CACHE_DIR
from credchain.secretstore import SecretStore
from credchain.tokens import AccessToken

__all__ = ["TokenCache", "token_identity"]

log = logging.getLogger(__name__)

_SUFFIX = ".token"
_VERSION = 1


def token_identity(token_url: str, grant: str, account: str, domain: str | None = None) -> str:
    """The cache key of one vault account: hex SHA-256 of who logs in where, never a secret."""
    material = "\0".join((token_url, grant, account, domain or ""))
    return hashlib.sha256(material.encode()).hexdigest()


class TokenCache:
    """The home's token cache; safe to share between clients and threads of one process."""

    def __init__(self, home: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.directory = home / TOKEN_CACHE_DIR
        self._store = SecretStore(home)
        self._clock = clock

    def _path(self, identity: str) -> Path:
        if len(identity) != 64 or not all(ch in "0123456789abcdef" for ch in identity):
            raise ValueError("a cache identity is a hex SHA-256 (see token_identity)")
        return self.directory / f"{identity}{_SUFFIX}"

    def get(self, identity: str) -> AccessToken | None:
        """The cached token of ``identity`` if it is there, intact and not expired."""
        path = self._path(identity)
        try:
            sealed = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError):
            return self._discard(path, "unreadable")
        try:
            data = json.loads(self._store.decrypt(sealed))
            if data.get("v") != _VERSION or data.get("identity") != identity:
                return self._discard(path, "written for another account")
            token = AccessToken(
                value=_text(data["token"]),
                expires_at=float(data["expires_at"]),
                renew_at=float(data["renew_at"]),
                refresh_token=_optional_text(data.get("refresh_token")),
            )
        except SecretStoreError:
            return self._discard(path, "tampered with or encrypted with another key")
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._discard(path, "malformed")
        if self._clock() >= token.expires_at:
            path.unlink(missing_ok=True)
            return None
        return token

    def put(self, identity: str, token: AccessToken) -> None:
        """Store ``token`` for ``identity``; a failure is logged, never raised."""
        payload = json.dumps(
            {
                "v": _VERSION,
                "identity": identity,
                "token": token.value,
                "expires_at": token.expires_at,
                "renew_at": token.renew_at,
                "refresh_token": token.refresh_token,
            }
        )
        try:
            ensure_private_dir(self.directory)
            atomic_write(self._path(identity), self._store.encrypt(payload))
        except (OSError, SecretStoreError) as exc:
            log.warning(
                "cannot write the token cache in %s: %s", self.directory, type(exc).__name__
            )

    def discard(self, identity: str) -> None:
        """Forget the token of ``identity`` (the vault refused it)."""
        self._path(identity).unlink(missing_ok=True)

    def clear(self) -> int:
        """Delete every cached token; returns how many entries there were."""
        if not self.directory.is_dir():
            return 0
        count = 0
        for path in self.directory.glob(f"*{_SUFFIX}"):
            path.unlink(missing_ok=True)
            count += 1
        return count

    def _discard(self, path: Path, why: str) -> AccessToken | None:
        """Log (the file name, never its content) and delete an entry we cannot trust: a miss."""
        log.warning("discarded the token cache entry %s: %s", path.name, why)
        path.unlink(missing_ok=True)
        return None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not text")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)
