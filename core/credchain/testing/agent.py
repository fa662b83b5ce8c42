"""``credchain agent`` in a child process, for tests of scanners and integrations.

```python
with AgentProcess(home) as agent:          # home holds credchain.toml
    with agent.client() as client:         # a credchain.agent.Client on its socket
        client.resolve({"asset_name": "web-01"})
    agent.reload()                          # SIGHUP, then waits for the reload's log line
```

The child runs this interpreter's ``python -m credchain agent`` with ``CREDCHAIN_HOME`` set to
``home`` and the parent's ``CREDCHAIN_*`` and ``PYTHON*`` variables removed; its stderr is
collected in ``stderr_lines`` (the ready line, warnings, and the audit log unless it goes to a
file). ``stop()`` sends SIGTERM and returns the exit code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from credchain.agent.client import Client
from credchain.testing.process import child_environ

__all__ = ["AgentProcess"]

_READY = "credchain agent: listening on "


class AgentProcess:
    """A running ``credchain agent`` for ``home`` (see the module docstring)."""

    def __init__(
        self,
        home: Path,
        *args: str,
        socket_path: Path | None = None,
        extra: Mapping[str, str] | None = None,
        user: str | None = None,
        pass_fds: Sequence[int] = (),
        timeout: float = 30.0,
    ) -> None:
        self.home = home
        self.socket_path = socket_path or home / "agent.sock"
        env = child_environ(home, extra)
        command = [sys.executable, "-m", "credchain", "agent", *args]
        if socket_path is not None:
            command += ["--socket", str(socket_path)]
        self.stderr_lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            user=user,
            pass_fds=pass_fds,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.ready_line = self.wait_for(_READY, timeout=timeout)
        except BaseException:
            self.stop(timeout=5)
            raise

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.stderr_lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def stderr(self) -> str:
        with self._changed:
            return "\n".join(self.stderr_lines)

    def wait_for(self, text: str, *, timeout: float = 30.0, after: int = 0) -> str:
        """The first stderr line (from line ``after`` on) containing ``text``; ``RuntimeError``
        if the agent exits or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.stderr_lines[after:]:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise RuntimeError(
                        f"the agent did not print {text!r} (exit {self.process.poll()}):\n"
                        + "\n".join(self.stderr_lines)
                    )
                self._changed.wait(min(left, 0.1))

    def client(self, *, timeout: float = 60.0) -> Client:
        """A client on the agent's Unix socket."""
        return Client(self.socket_path, timeout=timeout)

    def reload(self, *, timeout: float = 30.0) -> str:
        """Send SIGHUP; the log line saying whether the new config was taken."""
        mark = len(self.stderr_lines)
        self.process.send_signal(signal.SIGHUP)
        # the log line, not an audit line of an earlier reload that reached stderr late
        return self.wait_for("reload (SIGHUP)", timeout=timeout, after=mark)

    def stop(self, *, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code (SIGKILL past ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(5)
        return code

    def __enter__(self) -> AgentProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
