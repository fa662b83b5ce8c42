"""A small, persistent pool of script workers, shared by the resolver's threads.

Each worker is a child process (``python -m credchain_custom_script.worker``) in its own session,
spoken to over its stdin/stdout pipes (see ``protocol``), with a minimal environment. Workers
start on first use, up to ``size``; a caller takes an idle one or waits for one. Every call
opens and checks the script first (``source.read_script``) and the worker runs those checked
bytes, sent over the pipe when they changed; it never opens the file itself.

A worker that times out, dies, or sends something that is not a message is killed, and so is
every worker at ``close()``: always with its whole process group, so what the script spawned
goes too, and always reaped. It is replaced on the next call. Nothing here can make the caller's
process exit, and no call waits longer than ``timeout`` for its worker's answer.

``concurrent.futures.ProcessPoolExecutor`` is not used: one dead worker breaks it for good.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from credchain.errors import ScriptError
from credchain_custom_script.protocol import ProtocolError, WorkerGone, recv, send
from credchain_custom_script.source import ScriptRefused, ScriptSource, read_script
from credchain_custom_script.worker import ENTRY_POINT

__all__ = ["BASE_ENVIRONMENT", "Worker", "WorkerPool", "worker_environment"]

#: how long a new worker may take to start and load the script (imports may be slow)
STARTUP_TIMEOUT = 15.0
#: how long a worker whose pipe closed may take to exit, to tell how it ended
EXIT_GRACE = 1.0
#: what a worker keeps of the scanner's environment (and ``LC_*``), besides the names passed
BASE_ENVIRONMENT = frozenset(
    {"PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "CREDCHAIN_HOME", "CREDCHAIN_CONFIG"}
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def worker_environment(
    environ: Mapping[str, str], pass_environment: Iterable[str] = ()
) -> dict[str, str]:
    """A worker's environment: ``BASE_ENVIRONMENT``, ``LC_*`` and the names in ``pass_environment``.

    The rest (a vault password in ``password_env``, tokens, proxies) stays in the scanner.
    """
    names = BASE_ENVIRONMENT | set(pass_environment)
    env = {key: value for key, value in environ.items() if key in names or key.startswith("LC_")}
    # the child must import this package even when the parent found it through sys.path
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


class NotDelivered(WorkerGone):
    """The worker was gone before it got the request: another worker may safely take it."""


class Worker:
    """One child process running the script; used by one thread at a time."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self._writer = process.stdin.fileno()
        self._reader = process.stdout.fileno()
        #: the version (``ScriptSource.digest``) of the script this worker was sent
        self.digest: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(
        cls,
        source: ScriptSource,
        *,
        entry_point: str,
        environ: Mapping[str, str],
        timeout: float,
    ) -> Worker:
        """Start a worker with ``environ`` as it is, send it ``source``, wait until it is ready."""
        script = source.path
        command = [sys.executable, "-m", "credchain_custom_script.worker", str(script)]
        if entry_point != ENTRY_POINT:
            command.append(entry_point)
        cwd = script.parent if script.parent.is_dir() else None
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=cwd,
                env=dict(environ),
                bufsize=0,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise ScriptError(f"cannot start a worker for script {script}: {exc}") from None
        worker = cls(process)
        try:
            worker.send_source(source)
            reply = worker.receive(time.monotonic() + timeout)
        except TimeoutError:
            worker.kill()
            raise ScriptError(
                f"script {script} did not load within {timeout:g} s; its worker was stopped"
            ) from None
        except ProtocolError:
            reason = worker.exit_reason()
            worker.kill()
            raise ScriptError(f"a worker for script {script} did not start ({reason})") from None
        if reply.get("kind") != "ready":
            worker.kill()
            raise ScriptError(f"a worker for script {script} did not start")
        return worker

    def send_source(self, source: ScriptSource) -> None:
        """Send the first message: the script's checked bytes, loaded before "ready"."""
        try:
            send(self._writer, {"op": "source", "source": source.encoded()})
        except OSError:
            raise WorkerGone("the worker's pipe is closed") from None
        self.digest = source.digest

    def request(
        self, message: dict[str, Any], timeout: float, source: ScriptSource
    ) -> dict[str, Any]:
        """Send one request (with ``source`` if the worker has another version) and wait at
        most ``timeout`` seconds for the reply.

        Raises ``TimeoutError``, ``WorkerGone`` or ``ProtocolError``; after any of them the
        worker must be killed.
        """
        if source.digest != self.digest:
            message = {**message, "source": source.encoded()}
        try:
            send(self._writer, message)
        except OSError:
            raise NotDelivered("the worker's pipe is closed") from None
        self.digest = source.digest
        return self.receive(time.monotonic() + timeout)

    def receive(self, deadline: float) -> dict[str, Any]:
        try:
            return recv(self._reader, deadline)
        except TimeoutError:
            raise
        except OSError:  # TimeoutError is an OSError too, hence the clause above
            raise WorkerGone("the worker's pipe is closed") from None

    def exit_reason(self) -> str:
        """How the process ended, once it has: an exit status or a signal's name.

        The process is not reaped: until ``kill`` reaps it, its pid (the id of its process
        group) cannot be reused, so what it started can still be killed with the group.
        """
        code = self._wait_unreaped(time.monotonic() + EXIT_GRACE)
        if code is None:
            return "it stopped answering"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    def _wait_unreaped(self, deadline: float) -> int | None:
        """The exit status (``-signal`` if killed) once the process ended, without reaping it."""
        while self.process.returncode is None:
            try:
                info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:  # reaped by another thread meanwhile
                break
            if info is not None:
                killed = info.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
                return -info.si_status if killed else info.si_status
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        return self.process.returncode

    def signal_kill(self) -> None:
        """SIGKILL the worker's process group; its user sees end of file and calls ``kill``."""
        # only while the worker is unreaped: its pid is still the group's, never another's
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Kill the worker and everything it started, and reap it (no zombie is left).

        The group is killed even when the worker already exited on its own: a script's
        children are in it, and live on otherwise.
        """
        self.signal_kill()
        self.process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def _kill_all(workers: set[Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


class WorkerPool:
    """Up to ``size`` workers for one script; thread-safe; ``close()`` stops them all."""

    def __init__(
        self,
        script: Path,
        *,
        size: int = 2,
        timeout: float = 30.0,
        entry_point: str = ENTRY_POINT,
        environ: Mapping[str, str] | None = None,
        startup_timeout: float | None = None,
        pass_environment: Iterable[str] = (),
    ) -> None:
        """``environ`` (default ``os.environ``) is filtered by ``worker_environment``."""
        self.script = script
        self.size = size
        self.timeout = timeout
        self.startup_timeout = (
            max(STARTUP_TIMEOUT, timeout) if startup_timeout is None else startup_timeout
        )
        self.entry_point = entry_point
        self._environ = worker_environment(
            os.environ if environ is None else environ, pass_environment
        )
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._workers: set[Worker] = set()
        self._starting = 0
        self._closed = False
        # workers are killed at interpreter exit even when nobody called close()
        self._finalizer = weakref.finalize(self, _kill_all, self._workers)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and ``status``)."""
        with self._cond:
            return sorted(worker.pid for worker in self._workers)

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        """Check the script, send ``message`` to a worker and return its reply.

        A script the check refuses gets an ``invalid`` reply with the reason, and no worker
        runs it. Raises ``ScriptError`` when the worker hangs past the timeout, dies, or sends
        junk; that worker is replaced and other callers are not affected. A request that never
        reached its worker (it died while idle) is given to another one.
        """
        try:
            source = read_script(self.script)
        except ScriptRefused as refused:
            return {"kind": "invalid", "reason": refused.reason}
        for attempt in range(self.size + 1):
            worker = self._checkout(source)
            healthy = False
            try:
                reply = worker.request(message, self.timeout, source)
                healthy = True
                return reply
            except NotDelivered:
                if attempt < self.size:
                    continue
                error = self._gone(worker)
            except TimeoutError:
                error = ScriptError(
                    f"script {self.script} did not answer within {self.timeout:g} s; "
                    "its worker was stopped"
                )
            except WorkerGone:
                error = self._gone(worker)
            except ProtocolError:
                error = ScriptError(
                    f"script {self.script}: its worker sent an invalid reply and was stopped"
                )
            finally:
                self._checkin(worker, healthy)
            raise error
        raise AssertionError("unreachable")

    def _gone(self, worker: Worker) -> ScriptError:
        if self._closed:
            return ScriptError("the custom-script provider was closed")
        return ScriptError(
            f"script {self.script} ended its worker during the call "
            f"({worker.exit_reason()}); a new worker takes over"
        )

    def close(self) -> None:
        """Kill every worker with its process group (what the script started) and reap it.

        A call in progress ends with ``ScriptError`` ("closed"); its thread reaps the worker.
        """
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = [worker for worker in self._workers if worker not in idle]
            self._workers.clear()
            self._cond.notify_all()
        for worker in busy:
            # only signal: the thread using it may be reading its pipe, and closing a descriptor
            # under a reader could hand the number to another file; that thread reaps it
            worker.signal_kill()
        for worker in idle:
            worker.kill()

    def _checkout(self, source: ScriptSource) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise ScriptError("the custom-script provider was closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._workers) + self._starting < self.size:
                    self._starting += 1
                    break
                self._cond.wait()
        try:
            worker = Worker.start(
                source,
                entry_point=self.entry_point,
                environ=self._environ,
                timeout=self.startup_timeout,
            )
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            if self._closed:
                closed = True
            else:
                closed = False
                self._workers.add(worker)
        if closed:
            worker.kill()
            raise ScriptError("the custom-script provider was closed")
        return worker

    def _checkin(self, worker: Worker, healthy: bool) -> None:
        with self._cond:
            keep = healthy and not self._closed and worker in self._workers
            if keep:
                self._idle.append(worker)
            else:
                self._workers.discard(worker)
            self._cond.notify()
        if not keep:
            worker.kill()
