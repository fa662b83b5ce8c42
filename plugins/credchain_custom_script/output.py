"""What a worker's reply means: a credential, "not here", or a ``ScriptError`` that says why.

Messages name the script and, for bad output, the key at fault; they never repeat a value, and
an exception the script raised is reported by type and line only (its message may be a secret):
its message and traceback travel as the error's ``debug_detail``, which only ``credchain
--debug`` prints (never a log line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from credchain.errors import CredentialFormatError, ScriptError
from credchain.models import SafeCredential

__all__ = ["credential_from_reply", "invalid_script"]


def invalid_script(script: Path, reason: str) -> ScriptError:
    return ScriptError(f"invalid script {script}: {reason}")


def credential_from_reply(reply: dict[str, Any], script: Path) -> SafeCredential | None:
    """The credential in a ``call`` reply, or ``None`` for "not here".

    Raises ``ScriptError`` for an invalid script, invalid output or an exception it raised.
    """
    kind = reply.get("kind")
    if kind == "not_found":
        return None
    if kind == "found":
        try:
            return SafeCredential.from_safe_dict(reply.get("value"), detail=f"script {script.name}")
        except CredentialFormatError as exc:
            raise ScriptError(f"invalid script output from {script}: {exc}") from None
    if kind == "bad_output":
        raise ScriptError(f"invalid script output from {script}: {reply.get('reason')}")
    if kind == "invalid":
        raise invalid_script(script, str(reply.get("reason")))
    if kind == "raised":
        name = str(reply.get("type"))
        line = reply.get("line")
        where = f" at line {line}" if line else ""
        if name == "SystemExit":
            error = ScriptError(f"script {script} called sys.exit(){where}")
        else:
            error = ScriptError(
                f"script {script} raised {name}{where} (its message is not shown; "
                "credchain --debug shows it and its traceback)"
            )
        detail = reply.get("traceback")
        error.debug_detail = detail if isinstance(detail, str) and detail else None
        raise error
    raise ScriptError(f"script {script}: its worker sent an unexpected reply")
