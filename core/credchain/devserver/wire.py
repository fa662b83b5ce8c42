"""A small HTTP/1.1 server on asyncio streams: keep-alive, one write per response.

asyncio rather than ``http.server``: one thread serves all connections, so 16 keep-alive
clients cost no thread switches, and a slow or delayed response is a cheap ``asyncio.sleep``.
asyncio sets TCP_NODELAY and each response goes out in a single write, so there is no Nagle /
delayed-ACK stall (reference section 7).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Request", "Response", "serve_connection"]

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
_REASONS = {s.value: s.phrase for s in HTTPStatus}


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # drop the connection with a TCP RST instead of answering
    trickle: float = 0.0  # > 0: send the response one byte at a time, this many seconds apart

    def encode(self, keep_alive: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Unknown')}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Server: credchain-devserver",
            "Connection: keep-alive" if keep_alive else "Connection: close",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


Handler = Callable[[Request], Awaitable[Response]]


def _parse_head(head: bytes) -> tuple[Request, bool]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    connection = headers.get("connection", "").lower()
    keep_alive = (version == "HTTP/1.1" and connection != "close") or connection == "keep-alive"
    return Request(method.upper(), unquote(parts.path), query, headers), keep_alive


def _abort_with_reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # Linger 0 turns close() into a RST: the client sees "connection reset by peer".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _trickle(writer: asyncio.StreamWriter, data: bytes, pause: float) -> None:
    """Send ``data`` a byte at a time; a client that hangs up ends it (``ConnectionError``)."""
    for offset in range(len(data)):
        if writer.transport.is_closing():
            return
        writer.write(data[offset : offset + 1])
        await writer.drain()
        await asyncio.sleep(pause)


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    """Serve requests on one connection until the client closes it or asks to."""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            try:
                request, keep_alive = _parse_head(head[:-4])
                length = int(request.headers.get("content-length", "0") or 0)
                if (
                    length < 0
                    or length > MAX_BODY
                    or "chunked" in request.headers.get("transfer-encoding", "")
                ):
                    raise ValueError("unsupported body")
            except ValueError:
                writer.write(Response(400, b'{"message": "Bad request"}').encode(False))
                return
            if length:
                request.body = await reader.readexactly(length)
            response = await handler(request)
            if response.reset:
                _abort_with_reset(writer)
                return
            if response.trickle:
                await _trickle(writer, response.encode(keep_alive), response.trickle)
            else:
                writer.write(response.encode(keep_alive))
                await writer.drain()
            if not keep_alive:
                return
    except (ConnectionError, asyncio.LimitOverrunError, ssl.SSLError, asyncio.IncompleteReadError):
        return
    finally:
        if not writer.transport.is_closing():
            writer.close()
