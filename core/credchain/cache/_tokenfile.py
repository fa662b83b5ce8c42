"""Vault access tokens cached on disk, encrypted, so a run reuses the token of the run before.

One file per vault account, ``HOME/cache/tokens/<identity>.token``, written atomically with mode
0600. The identity is the SHA-256 of the token URL, the grant, the account (username or client
id) and its domain: it names the file and never contains a password. The file holds the token,
its refresh token and its expiry, encrypted with the home's secret key (``secret.key``, Fernet:
AES-128-CBC with HMAC-SHA256), and the identity again inside the ciphertext, so a file that was
changed, re-keyed or copied over another account's file is detected, logged (by file name only)
and discarded. Expired entries are deleted when read. ``credchain cache clear`` deletes them all.

Reading or writing the cache never fails a lookup: a cache that cannot be used (a directory, a
FIFO or a device where an entry should be, an entry over 256 KiB, an unreadable file, a key file
that is missing, garbage or a directory, a read-only directory, an expiry that is not a finite
number, a token that is not visible ASCII) is a cache miss, logged by file name only, never its
content. What credchain did not write (a directory, a link's target) is never deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

from credchain.errors import ConfigError, SecretStoreError
from credchain.files import atomic_write, ensure_private_dir, read_text_capped
from credchain.home import TOKEN_CACHE_DIR
from credchain.secretstore import SecretStore
from credchain.tokens import AccessToken

__all__ = ["TokenCache", "token_identity"]

log = logging.getLogger("credchain.cache")

_SUFFIX = ".token"
_VERSION = 1
#: far more than a sealed token needs (a few KiB): a bigger file is not ours
_MAX_ENTRY = 256 * 1024


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
            # Capped, and opened without blocking: a FIFO or /dev/zero here must not hang us.
            sealed = read_text_capped(path, _MAX_ENTRY, "a token cache entry")
        except FileNotFoundError:
            return None
        except ConfigError:
            return self._discard(path, "not a regular file, or too large")
        except (OSError, UnicodeDecodeError) as exc:
            return self._discard(path, f"unreadable ({type(exc).__name__})")
        try:
            data = json.loads(self._store.decrypt(sealed))
            if data.get("v") != _VERSION or data.get("identity") != identity:
                return self._discard(path, "written for another account")
            token = AccessToken(
                value=_token_text(data["token"]),
                expires_at=_finite(data["expires_at"]),
                renew_at=_finite(data["renew_at"]),
                refresh_token=_optional_text(data.get("refresh_token")),
            )
        except SecretStoreError:
            return self._discard(path, "tampered with or encrypted with another key")
        except OSError as exc:  # the key file: a directory, unreadable
            return self._discard(path, f"the key file cannot be read ({type(exc).__name__})")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return self._discard(path, "malformed")
        if self._clock() >= token.expires_at:
            self._delete(path)
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
        """Forget the token of ``identity`` (the vault refused it); a failure is logged."""
        self._delete(self._path(identity))

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
        self._delete(path)
        return None

    @staticmethod
    def _delete(path: Path) -> None:
        """Delete an entry (a link, not its target); a directory or a read-only one is logged."""
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot delete the token cache entry %s: %s", path.name, type(exc).__name__)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not text")
    return value


def _token_text(value: object) -> str:
    """A token as sent in a header: visible ASCII, no space (RFC 6750's b64token is narrower)."""
    text = _text(value)
    if not all("!" <= ch <= "~" for ch in text):
        raise ValueError("not a token")
    return text


def _optional_text(value: object) -> str | None:
    return None if value is None else _token_text(value)


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number
