"""A real ``redis-server`` for tests and benchmarks: loopback only, in a temporary directory.

```python
with RedisServer() as server:            # a free 127.0.0.1 port, no persistence
    server.url                           # "redis://127.0.0.1:PORT/0"
    server.kill()                        # SIGKILL: a crash mid-run
    server.start()                       # again, on the same port, empty
```

The pytest fixture ``redis_server`` (credchain's pytest plugin) gives a started one per test
and skips, saying why, where ``redis-server`` is not installed (Debian: ``apt-get install
redis-server``; ``.ci/run`` installs it). Redis has no ``--port 0``: a free port is found by
binding one and closing it, and the start is tried again on another if it was taken meanwhile.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["REDIS_SERVER", "RedisServer", "RedisUnavailable", "free_port"]

REDIS_SERVER = "redis-server"


class RedisUnavailable(RuntimeError):
    """``redis-server`` is not installed, or would not start."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process (see the module docstring). A context manager."""

    def __init__(self, *flags: str, directory: Path | None = None) -> None:
        binary = shutil.which(REDIS_SERVER)
        if binary is None:
            raise RedisUnavailable(
                "redis-server is not installed (Debian: apt-get install redis-server)"
            )
        self.binary = binary
        self.flags = flags
        self._own_dir = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="credchain-redis-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> RedisServer:
        """Start it (on the port it had, if it had one); returns once it answers PING."""
        for attempt in range(5):
            port = self.port or free_port()
            command = [
                self.binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--daemonize", "no",
                "--protected-mode", "yes",
                *self.flags,
            ]  # fmt: skip
            self.process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self._wait_ready(port, timeout):
                self.port = port
                return self
            self.process.kill()
            self.process.wait()
            if self.port and attempt >= 2:
                break  # the port we must keep stays taken
        raise RedisUnavailable("redis-server did not start")

    def _wait_ready(self, port: int, timeout: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        """SIGKILL, as a crash; ``start()`` brings it back empty on the same port."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
