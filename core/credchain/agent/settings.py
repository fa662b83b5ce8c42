"""The agent's settings: the ``[agent]`` table of the configuration, then the command's flags.

```toml
[agent]
socket = "agent.sock"            # in the home unless absolute; mode 0600 (0660 with socket_group)
socket_group = "scanners"        # a group name or gid that may connect as well
allow_uids = [1001]              # callers by uid (default: the agent's own uid only)
allow_gids = ["scanners"]        # ... or by group (primary or supplementary)
allow_executables = ["/usr/bin/node", { path = "/opt/scan/bin/scan", sha256 = "9f86d0..." }]
audit_log = "agent-audit.log"    # in the home unless absolute; "-" (the default) is stderr
audit_max_bytes = 10485760       # rotated at this size, keeping audit_backups old files
audit_backups = 5
threads = 16                     # resolver threads: the most lookups in flight at once
max_concurrency = 16             # the most lookups one resolve-many request runs at once
cache_ttl = 60.0                 # seconds an answer is reused across requests (0: never)
negative_ttl = 0.0               # seconds a "not found" is reused (0: never)
listen = "127.0.0.1:8443"        # optional TCP listener: needs tls_cert, tls_key, token_file
tls_cert = "agent.crt"
tls_key = "agent.key"
token_file = "agent.token"       # the bearer token callers send; must be mode 0600
```

Allowed callers: a uid in ``allow_uids`` or a group in ``allow_gids``, and, when
``allow_executables`` is given, an executable it lists. A caller over TCP is allowed by the
bearer token alone (the kernel cannot say who is at the other end).
"""

from __future__ import annotations

import grp
import hmac
import ipaddress
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from credchain.agent.callers import AllowedExecutable, CallerPolicy
from credchain.config import Config, settings_error
from credchain.errors import ConfigError
from credchain.home import AGENT_SOCKET

__all__ = [
    "MAX_SOCKET_PATH",
    "AgentSettings",
    "Listener",
    "agent_settings",
    "read_token",
    "token_matches",
]

#: ``sun_path`` holds 108 bytes on Linux, the last a NUL
MAX_SOCKET_PATH = 107
_MAX_TOKEN_FILE = 4096


class _Executable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class AgentSettings(BaseModel):
    """The ``[agent]`` table, checked; paths not yet anchored in the home (``anchored``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    socket: str = AGENT_SOCKET
    socket_group: str | int | None = None
    allow_uids: list[int] | None = None
    allow_gids: list[str | int] = []
    allow_executables: list[str | _Executable] = []
    audit_log: str = "-"
    audit_max_bytes: int = Field(default=10 * 1024 * 1024, ge=4096)
    audit_backups: int = Field(default=5, ge=0, le=100)
    threads: int = Field(default=16, ge=1, le=256)
    max_concurrency: int = Field(default=16, ge=1, le=256)
    cache_ttl: float = Field(default=60.0, ge=0, le=86400, allow_inf_nan=False)
    negative_ttl: float = Field(default=0.0, ge=0, le=86400, allow_inf_nan=False)
    listen: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    token_file: str | None = None

    @field_validator("socket", "audit_log", "tls_cert", "tls_key", "token_file")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and (not value or "\x00" in value):
            raise ValueError("must be a file path (not empty, no NUL byte)")
        return value

    @field_validator("allow_executables")
    @classmethod
    def _absolute(cls, value: list[str | _Executable]) -> list[str | _Executable]:
        for item in value:
            path = item if isinstance(item, str) else item.path
            if not os.path.isabs(path):
                raise ValueError(f"{path!r} is not an absolute path")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            Listener.parse(value)
        return value

    @model_validator(mode="after")
    def _tcp_needs_tls_and_token(self) -> Self:
        if self.listen is not None:
            missing = [k for k in ("tls_cert", "tls_key", "token_file") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"listen needs {', '.join(missing)} (TCP is TLS with a token)")
        return self

    def anchored(self, home: Path, value: str) -> Path:
        """A path setting: as given when absolute, else in the home."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else home / path

    def socket_path(self, home: Path) -> Path:
        path = self.anchored(home, self.socket)
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise ConfigError(
                f"the socket path {str(path)!r} is longer than {MAX_SOCKET_PATH} bytes, "
                "the most a Unix socket can have: choose a shorter one (--socket)",
                key="agent.socket",
            )
        return path

    def audit_path(self, home: Path) -> Path | None:
        """The audit log file, or None for stderr."""
        return None if self.audit_log == "-" else self.anchored(home, self.audit_log)

    def group_id(self) -> int | None:
        return None if self.socket_group is None else _gid(self.socket_group, "agent.socket_group")

    def policy(self) -> CallerPolicy:
        uids = [os.getuid()] if self.allow_uids is None else self.allow_uids
        gids = [_gid(g, "agent.allow_gids") for g in self.allow_gids]
        executables = [
            AllowedExecutable(item)
            if isinstance(item, str)
            else AllowedExecutable(item.path, item.sha256.lower() if item.sha256 else None)
            for item in self.allow_executables
        ]
        return CallerPolicy(uids, gids, executables)


@dataclass(frozen=True, slots=True)
class Listener:
    """A TCP ``host:port`` (``[::1]:port`` for IPv6)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Listener:
        host, sep, port = text.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:8443)")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise ValueError(f"{host!r} is not an IP address") from None
        return cls(host, int(port))


def agent_settings(config: Config, **overrides: Any) -> AgentSettings:
    """The ``[agent]`` table of ``config`` with the command's flags (those not None) on top."""
    table = {**config.agent, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return AgentSettings.model_validate(table)
    except ValidationError as exc:
        where = str(config.path) if config.path is not None else None
        raise settings_error(exc, key="agent", path=where) from None


def read_token(path: Path) -> str:
    """The bearer token in ``path``, a file only its owner may read (mode 0600 or stricter)."""
    where = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("the token file is not a regular file", path=where)
        if info.st_mode & 0o077:
            raise ConfigError(
                f"the token file has mode {stat.S_IMODE(info.st_mode):04o}; make it 0600",
                path=where,
            )
        with path.open("rb") as handle:
            raw = handle.read(_MAX_TOKEN_FILE + 1)
    except FileNotFoundError:
        raise ConfigError("the token file does not exist", path=where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the token file: {exc.strerror}", path=where) from None
    token = raw.decode("utf-8", "replace").strip()
    if len(raw) > _MAX_TOKEN_FILE or len(token) < 16 or any(c.isspace() for c in token):
        raise ConfigError(
            "the token file must hold one token of 16 to 4096 characters, no spaces", path=where
        )
    return token


def token_matches(expected: str, header: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <expected>`` (constant time)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), expected.encode())


def _gid(group: str | int, key: str) -> int:
    if isinstance(group, int):
        return group
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ConfigError(f"no group named {group!r} on this host", key=key) from None
