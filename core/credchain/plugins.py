"""Finding and loading providers: entry points in the group ``credchain.providers`` (stevedore).

The resolver loads exactly the provider types its chain names, in the chain's order. A name that
is not installed fails with the list of what is; a provider whose import fails is reported with
its distribution and the exception, or skipped and reported in tolerant mode; so is one whose
hooks are wrong (``hook_problems``: a misspelt ``credchain_*`` name, a hook not marked
``@hookimpl``, an argument the hook does not have), before any lookup. These reports are
credchain's own: stevedore is told not to log its own ("Could not load ..."), and a type that
two distributions install is warned about here, naming both targets.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import pluggy
from pydantic import BaseModel, SecretStr, ValidationError
from stevedore import NamedExtensionManager
from stevedore.extension import Extension, ExtensionManager

from credchain import hookspecs
from credchain.config import EntryConfig, settings_error
from credchain.errors import PluginLoadError
from credchain.provider import ProviderContext

__all__ = [
    "GROUP",
    "LoadedProviders",
    "ProviderInfo",
    "build_provider",
    "hook_problems",
    "installed_provider_classes",
    "installed_providers",
    "load_provider_classes",
]

GROUP = "credchain.providers"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderInfo:
    """One installed provider, as ``credchain providers`` lists it."""

    name: str
    distribution: str | None
    version: str | None
    description: str
    target: str
    error: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "description": self.description,
            "target": self.target,
            "error": self.error,
        }


@dataclass
class LoadedProviders:
    """Provider classes by type name, in chain order, and the failures skipped in tolerant mode."""

    classes: dict[str, type] = field(default_factory=dict)
    failures: list[PluginLoadError] = field(default_factory=list)


def _distributions() -> dict[tuple[str, str], tuple[str, str]]:
    """(entry-point name, target) -> (distribution, version), for the group."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == GROUP:
                found.setdefault((ep.name, ep.value), (dist.metadata["Name"], dist.version))
    return found


def _forget_scanned_entry_points() -> None:
    """stevedore keeps a per-process list of a group's entry points; rescan when sys.path changed.

    Its own cache, keyed on ``sys.path`` and the mtimes of what is on it, still spares the scan.
    """
    ExtensionManager.ENTRY_POINT_CACHE.pop(GROUP, None)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _first_line(obj: object) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def _last_installed(_group: str, name: str, extensions: list[Extension[Any]]) -> Extension[Any]:
    """stevedore's choice among entry points of one name (the last), warned about in our words."""
    chosen = extensions[-1]
    log.warning(
        "provider %r is installed %d times (%s); using %s",
        name,
        len(extensions),
        ", ".join(ext.entry_point.value for ext in extensions),
        chosen.entry_point.value,
    )
    return chosen


_HOOKS = sorted(name for name in vars(hookspecs) if name.startswith(f"{hookspecs.PROJECT}_"))


def hook_problems(plugin: object) -> list[str]:
    """What is wrong with a provider's hooks (its class or an instance), found without calling
    them: a ``credchain_*`` name that is no hook, a hook not marked ``@hookimpl``, or an
    argument the hook does not have (pluggy's ``PluginValidationError``)."""
    problems = []
    for name in dir(plugin):
        if not name.startswith(f"{hookspecs.PROJECT}_"):
            continue
        marked = getattr(getattr(plugin, name, None), f"{hookspecs.PROJECT}_impl", None)
        if name not in _HOOKS:
            guess = difflib.get_close_matches(name, _HOOKS, n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else f" (hooks: {', '.join(_HOOKS)})"
            problems.append(f"{name} is not a credchain hook{hint}")
        elif marked is None:
            problems.append(f"{name} is not marked @hookimpl, so it is never called")
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(plugin, name=getattr(plugin, "__name__", type(plugin).__name__))
    except pluggy.PluginValidationError as exc:
        problems.append(" ".join(str(exc).split()))
    return problems


def installed_providers() -> list[ProviderInfo]:
    """Every installed provider, sorted by name; a broken one carries its ``error``."""
    _forget_scanned_entry_points()
    dists = _distributions()
    errors: dict[str, str] = {}

    def on_failure(_manager: Any, ep: importlib.metadata.EntryPoint, err: BaseException) -> None:
        errors[ep.name] = _describe(err)

    manager: ExtensionManager[Any] = ExtensionManager(
        GROUP, invoke_on_load=False, on_load_failure_callback=on_failure
    )
    loaded = {ext.name: ext for ext in manager}
    infos = []
    for ep in manager.list_entry_points():
        dist, version = dists.get((ep.name, ep.value), (None, None))
        ext = loaded.get(ep.name)
        problems = hook_problems(ext.plugin) if ext else []
        if problems:
            errors[ep.name] = "broken hooks: " + "; ".join(problems)
        infos.append(
            ProviderInfo(
                name=ep.name,
                distribution=dist,
                version=version,
                description=_first_line(ext.plugin) if ext else "",
                target=ep.value,
                error=errors.get(ep.name, "failed to load") if ext is None or problems else None,
            )
        )
    return sorted(infos, key=lambda info: info.name)


def installed_provider_classes() -> dict[str, type]:
    """Every installed provider class that loads, by entry-point name (broken ones left out)."""
    _forget_scanned_entry_points()
    manager: ExtensionManager[Any] = ExtensionManager(
        GROUP, invoke_on_load=False, on_load_failure_callback=lambda *_: None
    )
    return {ext.name: ext.plugin for ext in manager}


def load_provider_classes(
    types: Sequence[str], *, tolerant: bool = False, warn: bool = True
) -> LoadedProviders:
    """Load the provider classes named in ``types``, in that order.

    Raises ``PluginLoadError`` for a missing or broken provider, unless ``tolerant``: then the
    provider is left out, its error is in ``failures`` and, if ``warn``, logged as a warning.
    """
    _forget_scanned_entry_points()
    result = LoadedProviders()
    wanted = list(dict.fromkeys(types))
    broken: dict[str, PluginLoadError] = {}

    def on_failure(_manager: Any, ep: importlib.metadata.EntryPoint, err: BaseException) -> None:
        dist = _distributions().get((ep.name, ep.value), (None, None))[0]
        from_dist = f" (distribution {dist})" if dist else ""
        broken[ep.name] = PluginLoadError(
            f"provider {ep.name!r}{from_dist} failed to load: {_describe(err)}",
            name=ep.name,
            distribution=dist,
        )

    manager: NamedExtensionManager[Any] = NamedExtensionManager(
        GROUP,
        names=wanted,
        name_order=True,
        invoke_on_load=False,
        on_load_failure_callback=on_failure,
        on_missing_entrypoints_callback=None,  # reported below, with what is installed
        conflict_resolver=_last_installed,
    )
    loaded = {ext.name: ext.plugin for ext in manager}
    installed = sorted(ep.name for ep in manager.list_entry_points())
    for ext in manager:
        problems = hook_problems(ext.plugin)
        if problems:
            dist = _distributions().get((ext.name, ext.entry_point.value), (None, None))[0]
            from_dist = f" (distribution {dist})" if dist else ""
            broken[ext.name] = PluginLoadError(
                f"provider {ext.name!r}{from_dist} has broken hooks: {'; '.join(problems)}",
                name=ext.name,
                distribution=dist,
            )
            del loaded[ext.name]
    for name in wanted:
        if name in loaded:
            result.classes[name] = loaded[name]
            continue
        error = broken.get(name) or PluginLoadError(
            f"no provider named {name!r} is installed "
            f"(installed: {', '.join(installed) or 'none'})",
            name=name,
            installed=installed,
        )
        if not tolerant:
            raise error
        if warn:
            log.warning("skipping provider: %s", error)
        result.failures.append(error)
    return result


def _holds_secret(annotation: object) -> bool:
    return annotation is SecretStr or any(_holds_secret(arg) for arg in get_args(annotation))


def _secret_fields(model: type[BaseModel]) -> set[str]:
    """Top-level settings whose type holds a ``SecretStr``, however deeply."""
    return {name for name, info in model.model_fields.items() if _holds_secret(info.annotation)}


def build_provider(
    entry: EntryConfig, cls: type, context: ProviderContext, *, config_path: str | None = None
) -> object:
    """Validate the entry's settings with ``cls.Settings`` and build the provider instance.

    Raises the entry's ``problem`` (settings that could not be resolved) before anything else.
    """
    if entry.problem is not None:
        raise entry.problem
    settings_model: type[BaseModel] = getattr(cls, "Settings", None) or BaseModel
    try:
        settings = settings_model.model_validate(dict(entry.settings))
    except ValidationError as exc:
        raise settings_error(
            exc, key=f"providers.{entry.name}", path=config_path, kind=entry.type
        ) from None
    shared = context.config is not None and context.config.file_is_shared
    plain_fields = {key.split(".", 1)[0] for key in entry.plain_keys}
    for name in sorted(_secret_fields(settings_model) & plain_fields):
        if shared:
            log.warning(
                "%s: providers.%s.%s is stored in plain text in a file that group or others "
                "can read; encrypt it ('credchain add') or use %s_env",
                config_path,
                entry.name,
                name,
                name,
            )
    return cls(settings, context)
