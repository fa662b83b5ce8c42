"""A tiny TLS server on loopback that answers as a test scripts it: for what the dev server cannot
be made to send (a body without a length, a body that trickles after prompt headers, an old TLS
version only). Real sockets, real TLS, the dev server's kind of certificate.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from credchain.devserver.tls import ServerIdentity, make_identity

#: what the server does with one accepted TLS connection, once the request head is read
Answer = Callable[[ssl.SSLSocket], None]


def _read_request(tls: ssl.SSLSocket) -> bool:
    """Read one request, head and body (so closing sends no reset); ``False`` at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = tls.recv(4096)
        if not piece:
            return False
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    missing = int(length.group(1)) - len(body) if length else 0
    while missing > 0:
        piece = tls.recv(missing)
        if not piece:
            return False
        missing -= len(piece)
    return True


@contextmanager
def loopback_tls(
    directory: Path,
    answer: Answer,
    *,
    maximum_version: ssl.TLSVersion | None = None,
) -> Iterator[tuple[str, ServerIdentity]]:
    """Serve ``answer`` on 127.0.0.1 over TLS; yields (origin, certificate files)."""
    identity = make_identity(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    identity.load_into(context)
    if maximum_version is not None:
        with warnings.catch_warnings():
            # An old version is what such a test is about: Python warns that it is deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = maximum_version
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let OpenSSL offer the old version if it can
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve_one(raw: socket.socket) -> None:
        with raw:
            raw.settimeout(10)
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    if _read_request(tls):
                        answer(tls)
            except (OSError, ssl.SSLError):
                return  # the client gave up or refused the handshake: what tests provoke

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve_one, args=(raw,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", identity
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
