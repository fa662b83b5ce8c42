"""What the scanner's process and a script worker say to each other, and how it is framed.

Each message is a JSON object preceded by its length (4 bytes, big-endian), on a pipe pair the
worker keeps for itself: the script's ``print()`` goes to ``/dev/null`` and cannot corrupt it.
Passwords travel only here, never in argv, the environment or a log.

Requests (parent -> worker)::

    {"op": "source", "source": "<base64>"}          first, once: the script's checked bytes
    {"op": "call", "query": {"asset_name": ..., "ip_address": ..., "cmdb_id": ...}}
    {"op": "load"}                                  report on the loaded script, call nothing

A ``call`` or ``load`` also carries ``"source"`` when the script changed since the worker got it:
the worker then runs the new bytes first. A worker never reads the script's file itself.

Replies (worker -> parent)::

    {"kind": "ready"}                               once, when the worker has started
    {"kind": "found", "value": {...}}               the script returned a dict
    {"kind": "not_found"}                           None, or a NotFound exception
    {"kind": "loaded", "line": N}                   "load": the entry point's first line
    {"kind": "invalid", "reason": "..."}            the script cannot be loaded
    {"kind": "bad_output", "reason": "..."}         it returned something JSON cannot carry
    {"kind": "raised", "type": "ValueError", "line": N, "traceback": "..."}
                                                    the script raised (traceback: --debug only)

This module imports nothing from credchain: workers start fast and the protocol stays small.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

__all__ = [
    "MAX_MESSAGE",
    "MAX_REQUEST",
    "MAX_SCRIPT",
    "ProtocolError",
    "WorkerGone",
    "recv",
    "send",
]

#: a reply larger than this is junk, not a credential
MAX_MESSAGE = 1 << 20
#: a script larger than this is refused (its bytes travel in a request)
MAX_SCRIPT = 1 << 20
#: a request may carry a script of ``MAX_SCRIPT`` bytes in base64
MAX_REQUEST = MAX_SCRIPT * 4 // 3 + (64 << 10)

_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The other side sent something that is not a message of this protocol."""


class WorkerGone(ProtocolError):
    """The pipe was closed: the other side exited or was killed."""


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one framed message (blocking: the reader always drains its pipe)."""
    body = json.dumps(message, separators=(",", ":")).encode()
    view = memoryview(_HEADER.pack(len(body)) + body)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def recv(fd: int, deadline: float | None = None, *, limit: int = MAX_MESSAGE) -> dict[str, Any]:
    """Read one framed message of at most ``limit`` bytes; ``deadline``: ``time.monotonic()``.

    Raises ``TimeoutError`` past the deadline, ``WorkerGone`` at end of file and
    ``ProtocolError`` for anything that is not a message.
    """
    (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if length > limit:
        raise ProtocolError(f"a message of {length} bytes is over the {limit} limit")
    try:
        message = json.loads(_read_exactly(fd, length, deadline))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("a message is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message is not a JSON object")
    return message


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    missing = size
    poller = select.poll() if deadline is not None else None
    if poller is not None:
        poller.register(fd, select.POLLIN)
    while missing:
        if poller is not None and deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(max(1, int(left * 1000) + 1)):
                if time.monotonic() >= deadline:
                    raise TimeoutError
                continue
        chunk = os.read(fd, missing)
        if not chunk:
            raise WorkerGone("the pipe was closed")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
