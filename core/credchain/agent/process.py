"""Running the agent as a process: its sockets, its signals, and a clean stop.

- The Unix socket is bound with a umask that leaves it 0600 from the first moment (0660 and
  the ``socket_group`` with one); a stale socket file is replaced, a live agent's is not.
- Under systemd socket activation (``LISTEN_FDS``) the socket systemd passed is used instead.
- ``SIGHUP`` reloads the configuration; ``SIGTERM`` and ``SIGINT`` stop accepting, let the
  requests in flight finish (up to ``DRAIN_SECONDS``), then exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from aiohttp import web

from credchain.agent.server import build_app
from credchain.agent.service import Agent, load_generation
from credchain.agent.settings import Listener
from credchain.errors import ConfigError

__all__ = ["DRAIN_SECONDS", "check_agent", "run", "serve", "systemd_socket", "unix_socket"]

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0
_SD_LISTEN_FDS_START = 3


def systemd_socket(environ: dict[str, str] | None = None) -> socket.socket | None:
    """The listening socket systemd passed (socket activation), or None."""
    env = os.environ if environ is None else environ
    if env.get("LISTEN_PID") != str(os.getpid()) or not env.get("LISTEN_FDS", "").isdigit():
        return None
    if int(env["LISTEN_FDS"]) < 1:
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        env.pop(name, None)  # not for the children
    return socket.socket(fileno=_SD_LISTEN_FDS_START)


def unix_socket(path: Path, *, group: int | None = None) -> socket.socket:
    """A listening Unix socket at ``path``: mode 0600, or 0660 owned by ``group``."""
    where = str(path)
    if path.is_symlink() or (path.exists() and not stat.S_ISSOCK(path.lstat().st_mode)):
        raise ConfigError("exists and is not a socket: not replacing it", path=where)
    if path.exists():
        if _answers(path):
            raise ConfigError("another agent is listening on this socket", path=where)
        path.unlink()  # left by an agent that did not stop cleanly
    if not path.parent.is_dir():
        raise ConfigError("the socket's directory does not exist", path=where)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with _umask(0o117 if group is not None else 0o177):
            sock.bind(where)
        if group is not None:
            os.chown(where, -1, group)
            os.chmod(where, 0o660)
        sock.listen(512)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen: {exc.strerror}", path=where) from None
    return sock


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The TCP listener's TLS: TLS 1.2 at least, the agent's certificate and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS certificate and key: {exc}", path=str(cert)
        ) from None
    return context


def run(agent: Agent, *, ready: Callable[[str], None] | None = None) -> None:
    """``serve`` on uvloop's event loop where it is installed, else on asyncio's own.

    uvloop (libuv) spends less CPU per request on the loop and on the hand-offs between the
    loop and the thread pool: about 150 µs a request on the agent's benchmark machine
    (docs/performance.md).
    """
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(agent, ready=ready))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # not on this platform: asyncio's loop serves the same
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def serve(agent: Agent, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until SIGTERM/SIGINT; ``ready`` is told where, once every listener is open."""
    generation = agent.current
    settings, home = generation.settings, generation.config.home
    runner = web.AppRunner(build_app(agent), access_log=None, handle_signals=False)
    await runner.setup()
    sockets: list[str] = []
    unlink: Path | None = None
    try:
        activated = systemd_socket()
        if activated is not None:
            await web.SockSite(runner, activated, shutdown_timeout=DRAIN_SECONDS).start()
            sockets.append("the socket systemd passed")
        else:
            path = settings.socket_path(home)
            sock = unix_socket(path, group=settings.group_id())
            unlink = path
            await web.SockSite(runner, sock, shutdown_timeout=DRAIN_SECONDS).start()
            sockets.append(f"unix:{path}")
        if settings.listen is not None:
            assert settings.tls_cert is not None and settings.tls_key is not None
            listener = Listener.parse(settings.listen)
            context = tls_context(
                settings.anchored(home, settings.tls_cert),
                settings.anchored(home, settings.tls_key),
            )
            site = web.TCPSite(
                runner,
                listener.host,
                listener.port,
                ssl_context=context,
                shutdown_timeout=DRAIN_SECONDS,
            )
            try:
                await site.start()
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {settings.listen}: {exc.strerror}", key="agent.listen"
                ) from None
            sockets.append(f"https://{settings.listen}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload_in_background(agent))
        if ready is not None:
            ready(", ".join(sockets))
        await stop.wait()
        log.warning("stopping: finishing the requests in flight")
    finally:
        await runner.cleanup()
        if unlink is not None:
            with contextlib.suppress(FileNotFoundError):
                unlink.unlink()


_background: set[asyncio.Task[object]] = set()


def _reload_in_background(agent: Agent) -> None:
    async def reload() -> None:
        with contextlib.suppress(ConfigError):  # reported by reload(); the old config serves
            await agent.reload("SIGHUP")

    task: asyncio.Task[object] = asyncio.ensure_future(reload())
    _background.add(task)
    task.add_done_callback(_background.discard)


def print_ready(where: str) -> None:
    print(f"credchain agent: listening on {where} (pid {os.getpid()})", file=sys.stderr, flush=True)


def check_agent(config_path: str | None, overrides: dict[str, str | None]) -> str:
    """``credchain agent --check``: everything the agent would load, loaded; a summary line.

    Raises the ``CredchainError`` the agent would stop with.
    """
    generation = load_generation(config_path, overrides, dict(os.environ))
    try:
        settings, home = generation.settings, generation.config.home
        where = [f"unix:{settings.socket_path(home)}"]
        if settings.listen is not None:
            assert settings.tls_cert is not None and settings.tls_key is not None
            tls_context(
                settings.anchored(home, settings.tls_cert),
                settings.anchored(home, settings.tls_key),
            )
            where.append(f"https://{settings.listen}")
        audit = settings.audit_path(home)
        chain = ", ".join(entry.name for entry in generation.resolver.chain)
        return (
            f"agent configuration OK ({generation.config.path}): chain {chain}; "
            f"listens on {' and '.join(where)}; audit log {audit or 'stderr'}; "
            f"callers: {generation.policy.describe()}"
        )
    finally:
        generation.resolver.close()
