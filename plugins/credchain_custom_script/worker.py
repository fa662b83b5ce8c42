"""The child side: a process that loads the user's script and calls it, one query at a time.

Run as ``python -m credchain_custom_script.worker SCRIPT [ENTRY_POINT]`` with the protocol on
its stdin and stdout (see ``protocol``). It moves the protocol to private descriptors at once
and points 0, 1 and 2 at ``/dev/null``, so whatever the script prints is lost, not mixed in.

The worker never opens the script's file: the parent checks it and sends its bytes (see
``source``), first when the worker starts and again with the next request after it changed, and
the worker compiles those bytes with the script's path as their file name (so tracebacks and
line numbers still name the script). An edited script is picked up without a restart. A script
that raises is reported by exception type and line number; its message and traceback (the
script's own frames) go along separately, for the parent to show under ``credchain --debug``
only (``CredchainError.debug_detail``): a message may hold a secret.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from credchain_custom_script.notfound import is_not_found
from credchain_custom_script.protocol import MAX_REQUEST, WorkerGone, recv, send

__all__ = ["ENTRY_POINT", "ScriptRunner", "main"]

ENTRY_POINT = "get_password_from_thycotic"
#: the end of a script's traceback that is kept (the message is last)
_MAX_TRACEBACK = 8192
_JSON_SCALARS = (str, int, float, bool, type(None))

Reply = dict[str, Any]


def _restore_base64_aliases() -> None:
    """SAFE's template calls ``base64.encodestring``, removed in Python 3.9: alias it here.

    Only workers get the alias; the scanner's own process is left alone.
    """
    for old, new in (("encodestring", "encodebytes"), ("decodestring", "decodebytes")):
        if not hasattr(base64, old):
            setattr(base64, old, getattr(base64, new))


def _module_name(path: Path) -> str:
    return path.stem if path.stem.isidentifier() else "credchain_user_script"


class ScriptRunner:
    """Runs the script's source as a module (again when it changes) and calls its entry point."""

    def __init__(self, path: Path, entry_point: str = ENTRY_POINT) -> None:
        self.path = path
        self.entry_point = entry_point
        self._function: Callable[[dict[str, Any]], object] | None = None
        self._failure: Reply | None = _invalid("the worker was given no source")
        self._line = 0

    def load(self, source: bytes) -> Reply | None:
        """Run ``source`` as the script; a reply saying why when it cannot be loaded."""
        self._function, self._failure = None, None
        self._failure = self._exec(source)
        return self._failure

    def update(self, request: dict[str, Any]) -> None:
        """Load the source a request carries, if any (the script changed)."""
        encoded = request.get("source")
        if encoded is None:
            return
        try:
            source = base64.b64decode(str(encoded), validate=True)
        except binascii.Error:
            self._function, self._failure = None, _invalid("the worker got a garbled source")
            return
        self.load(source)

    def _exec(self, source: bytes) -> Reply | None:
        name = _module_name(self.path)
        try:
            code = compile(source, str(self.path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            return _invalid(f"syntax error at line {exc.lineno}: {exc.msg}")
        except ValueError:
            return _invalid("the script contains a null byte")
        module = types.ModuleType(name)
        module.__file__ = str(self.path)
        sys.modules[name] = module  # dataclasses and pickle look their module up here
        try:
            exec(code, module.__dict__)  # noqa: S102 - running the admin's script is the point
        except ImportError as exc:
            where = self._line_of(exc)
            what = f" ({exc.name!r})" if exc.name else ""
            return _invalid(f"import error at line {where}: {type(exc).__name__}{what}")
        except BaseException as exc:  # whatever the script does, the worker lives
            return _invalid(f"{type(exc).__name__} at line {self._line_of(exc)} while loading")
        function = module.__dict__.get(self.entry_point)
        if function is None:
            return _invalid(f"no function {self.entry_point!r} in the script")
        if not callable(function):
            return _invalid(f"{self.entry_point!r} is a {type(function).__name__}, not a function")
        self._function = function
        code_object = getattr(function, "__code__", None)
        self._line = getattr(code_object, "co_firstlineno", 0)
        return None

    def loaded(self) -> Reply:
        return self._failure or {"kind": "loaded", "line": self._line}

    def call(self, query: dict[str, Any]) -> Reply:
        if self._failure is not None:
            return self._failure
        assert self._function is not None
        try:
            result = self._function(dict(query))
        except BaseException as exc:  # sys.exit and the like are lookups' errors
            if is_not_found(exc):
                return {"kind": "not_found"}
            return {
                "kind": "raised",
                "type": type(exc).__name__,
                "line": self._line_of(exc),
                "traceback": self._traceback_of(exc),
            }
        if result is None:
            return {"kind": "not_found"}
        return _output(result)

    def _traceback_of(self, error: BaseException) -> str:
        """The traceback through the script's own frames, and the message (capped)."""
        shown = traceback.TracebackException.from_exception(error)
        own = [frame for frame in shown.stack if frame.filename == str(self.path)]
        shown.stack = traceback.StackSummary.from_list(own)
        return "".join(shown.format())[-_MAX_TRACEBACK:]

    def _line_of(self, error: BaseException) -> int | None:
        """The line of the script's own frame nearest to where ``error`` was raised."""
        line = None
        filename = str(self.path)
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is None and isinstance(error, SyntaxError) and error.filename == filename:
            line = error.lineno
        return line


def _invalid(reason: str) -> Reply:
    return {"kind": "invalid", "reason": reason}


def _bad_output(reason: str) -> Reply:
    return {"kind": "bad_output", "reason": reason}


def _output(result: object) -> Reply:
    """The script's answer as a message; what JSON cannot carry is named, never shown."""
    if not isinstance(result, dict):
        return _bad_output(f"it must return a dict, not {type(result).__name__}")
    value: dict[str, Any] = {}
    for key, item in result.items():
        if not isinstance(key, str):
            return _bad_output(f"the dict's keys must be text, not {type(key).__name__}")
        if not isinstance(item, _JSON_SCALARS):
            return _bad_output(f"{key!r} must be text, not {type(item).__name__}")
        value[key] = item
    return {"kind": "found", "value": value}


def _private_channel() -> tuple[int, int]:
    """Move the protocol off fds 0 and 1, and point 0, 1, 2 at /dev/null."""
    reader, writer = os.dup(0), os.dup(1)  # os.dup makes them non-inheritable
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return reader, writer


def serve(runner: ScriptRunner, reader: int, writer: int) -> None:
    """Load the source sent first, then answer requests until the parent closes the pipe.

    Loading before "ready" puts a slow import (requests, a vault SDK) under the pool's start-up
    limit rather than the first call's timeout; a failure is kept and reported by each call.
    """
    try:
        runner.update(recv(reader, limit=MAX_REQUEST))
    except WorkerGone:
        return
    send(writer, {"kind": "ready"})
    while True:
        try:
            request = recv(reader, limit=MAX_REQUEST)
        except WorkerGone:
            return
        runner.update(request)
        if request.get("op") == "load":
            reply = runner.loaded()
        else:
            reply = runner.call(request.get("query") or {})
        send(writer, reply)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python -m credchain_custom_script.worker SCRIPT [ENTRY_POINT]")
        return 2
    reader, writer = _private_channel()
    path = Path(argv[1])
    _restore_base64_aliases()
    sys.argv = [str(path)]
    sys.path.insert(0, str(path.parent))  # a script may import helper modules beside it
    serve(ScriptRunner(path, *argv[2:]), reader, writer)
    return 0


if __name__ == "__main__":
    # os._exit: threads a script left running must not keep the worker alive after the pipe closed
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)
