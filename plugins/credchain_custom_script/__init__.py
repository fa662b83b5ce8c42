"""The user custom-script provider: ``get_password_from_thycotic(query_data)``, in workers.

The contract, settings and guarantees are in docs/custom-script.md. Scripts may import
``NotFound`` from here (``from credchain_custom_script import NotFound``) and a ready Secret
Server client from ``credchain_custom_script.api``.

The names below are loaded on first use: script workers import this package too, and they must
start without paying for pydantic and the rest of credchain.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from credchain_custom_script.notfound import NotFound

if TYPE_CHECKING:
    from credchain_custom_script.checks import (
        SCRIPT_NAME,
        ScriptCheck,
        check_script,
        script_path,
        try_script,
    )
    from credchain_custom_script.provider import CustomScriptProvider, CustomScriptSettings
    from credchain_custom_script.template import write_template

__all__ = [
    "SCRIPT_NAME",
    "CustomScriptProvider",
    "CustomScriptSettings",
    "NotFound",
    "ScriptCheck",
    "check_script",
    "script_path",
    "try_script",
    "write_template",
]

_LAZY = {
    "SCRIPT_NAME": "checks",
    "ScriptCheck": "checks",
    "check_script": "checks",
    "script_path": "checks",
    "try_script": "checks",
    "CustomScriptProvider": "provider",
    "CustomScriptSettings": "provider",
    "write_template": "template",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
