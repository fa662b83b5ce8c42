"""The exit codes of ``credchain resolve`` and ``credchain explain``, told apart by error type.

| code | slug                                           | meaning                             |
|------|------------------------------------------------|-------------------------------------|
| 0    |                                                | found (explain: the trace shown)    |
| 1    | ``bad-query``, ``error``                       | any other error: a bad query, a bug |
| 2    |                                                | usage error (click's message)       |
| 3    | ``not-found``                                  | every chain entry said "not here"   |
| 4    | ``vault-unavailable``, ``agent-unavailable``   | try later                           |
| 5    | ``vault-error``, ``bad-config``, ``forbidden``, | refused or misconfigured: tell the |
|      | ``unauthorized``                               | admin; retrying will not help       |
| 6    | ``disabled``                                   | credchain is disabled               |
| 7    | ``timeout``                                    | past ``--timeout``: try later       |
| 8    |                                                | ``--inventory``: some lines failed  |

The slugs are the agent's problem slugs (``credchain.agent.problems``) where one exists, so a
scanner reads the same word from ``--error-json`` and from the agent's ``type``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TypeVar

from credchain.agent.client import AgentRefused, AgentUnavailable
from credchain.cli.output import terminal_safe
from credchain.errors import (
    ChainDisabled,
    ConfigError,
    CredchainError,
    CredentialFormatError,
    CredentialNotFound,
    PluginLoadError,
    ProviderError,
    ProviderUnavailable,
    QueryError,
    SecretStoreError,
    TimedOut,
)

__all__ = [
    "EXIT_DISABLED",
    "EXIT_ERROR",
    "EXIT_FOUND",
    "EXIT_LINES_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_REFUSED",
    "EXIT_TIMEOUT",
    "EXIT_TRY_LATER",
    "EXIT_USAGE",
    "bounded",
    "classify",
    "error_line",
]

EXIT_FOUND = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_TRY_LATER = 4
EXIT_REFUSED = 5
EXIT_DISABLED = 6
EXIT_TIMEOUT = 7
EXIT_LINES_FAILED = 8

# first match wins: a subclass before its base
_BY_TYPE: tuple[tuple[type[CredchainError], str, int], ...] = (
    (CredentialNotFound, "not-found", EXIT_NOT_FOUND),
    (QueryError, "bad-query", EXIT_ERROR),
    (TimedOut, "timeout", EXIT_TIMEOUT),
    (AgentUnavailable, "agent-unavailable", EXIT_TRY_LATER),
    (ProviderUnavailable, "vault-unavailable", EXIT_TRY_LATER),
    (ChainDisabled, "disabled", EXIT_DISABLED),
    (ConfigError, "bad-config", EXIT_REFUSED),
    (PluginLoadError, "bad-config", EXIT_REFUSED),
    (SecretStoreError, "bad-config", EXIT_REFUSED),
    (ProviderError, "vault-error", EXIT_REFUSED),
    (CredentialFormatError, "vault-error", EXIT_REFUSED),
)


def classify(error: BaseException) -> tuple[str, int]:
    """The slug and exit code of an error (``error``, 1 for one no row names)."""
    if isinstance(error, AgentRefused):
        return error.slug, EXIT_REFUSED
    for cls, slug, code in _BY_TYPE:
        if isinstance(error, cls):
            return slug, code
    return "error", EXIT_ERROR


def error_line(error: BaseException, *, as_json: bool) -> tuple[str, int]:
    """The one stderr line for ``error`` (the text, or with ``as_json`` a JSON object), and
    the exit code. The message is that of a credchain error, or only the type of any other."""
    slug, code = classify(error)
    if isinstance(error, CredchainError):
        message = terminal_safe(error)
    else:  # an unexpected error's text may be anything: its type says enough
        message = f"unexpected {type(error).__name__}"
    if as_json:
        return json.dumps({"error": slug, "message": message, "exit_code": code}), code
    kind = "not found" if code == EXIT_NOT_FOUND else "error"
    return f"credchain: {kind}: {message}", code


T = TypeVar("T")


def bounded(call: Callable[[], T], timeout: float | None) -> T:
    """``call()``'s result or exception; past ``timeout`` seconds, ``TimedOut``.

    The call runs in a daemon thread the caller cannot stop: after ``TimedOut`` the process
    must end without waiting for it (``os._exit``), having written nothing but its error.
    """
    if timeout is None:
        return call()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the waiting thread, raised there
            failure.append(exc)

    worker = threading.Thread(target=run, name="credchain-bounded", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimedOut(f"no answer within --timeout {timeout:g} s")
    if failure:
        raise failure[0]
    return outcome[0]
