"""What the asset is called (its machine keys) and which domain it is in: pure functions.

Machine keys, in the order they are searched, duplicates (any case) dropped:

1. ``asset_name`` as given;
2. ``ip_address`` when it is a host name rather than an address;
3. the short name (first label) of each of those that is an FQDN;
4. ``ip_address`` (or ``asset_name``) when it is an IP address.

A full name (1, 2, 4) names a machine by itself. A short name (3) names one only within a
domain: the query's ``domain`` hint if given, else the domain of the FQDN it was cut from
(``dc-09`` of ``dc-09.evil.example.net`` is a machine of ``EVIL``). ``scoped_machine_keys``
says, for each key, which: a short name may only take a machine secret of its own domain.

The asset's domain, first match wins: the query's ``domain`` hint; the DNS suffix of the first
FQDN among ``asset_name`` and ``ip_address``; ``default_domain``; else none. A domain written as
a DNS name (it has a dot) becomes a domain name through ``domain_map`` (the longest mapped
suffix that equals it or that it ends with), else its first label upper-cased:
``corp.example.com`` -> ``CORP``. Domain names compare upper-cased (NetBIOS names ignore case).

A secret's domain field may hold any spelling of its domain: the NetBIOS name or a DNS name that
stands for it. ``domain_spellings`` lists the ones worth searching for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "AssetDomain",
    "MachineKey",
    "asset_domain",
    "domain_spellings",
    "is_ip_address",
    "machine_keys",
    "normalize_domain",
    "scoped_machine_keys",
    "short_name",
]


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host(text: str | None) -> str | None:
    """A host name without its root dot, or None for missing text and IP addresses."""
    if not text or is_ip_address(text):
        return None
    return text.rstrip(".") or None


def short_name(host: str) -> str | None:
    """The first label of an FQDN (``web-01`` of ``web-01.corp.example.com``), else None."""
    host = host.rstrip(".")
    if is_ip_address(host) or "." not in host:
        return None
    label = host.split(".", 1)[0]
    return label or None


def machine_keys(asset_name: str | None, ip_address: str | None) -> tuple[str, ...]:
    """The asset's machine keys in search order (see the module docstring)."""
    hosts = [h for h in (_host(asset_name), _host(ip_address)) if h]
    # The asset's own name first, whatever it is: it is the scanner's primary key.
    ordered = [asset_name.rstrip(".") or asset_name] if asset_name else []
    ordered.extend(hosts)
    ordered.extend(s for s in (short_name(h) for h in hosts) if s)
    ordered.extend(a for a in (asset_name, ip_address) if a and is_ip_address(a))
    keys: list[str] = []
    seen: set[str] = set()
    for key in ordered:
        if key.casefold() not in seen:
            seen.add(key.casefold())
            keys.append(key)
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class MachineKey:
    """A machine key and, for a short name, the domains it names a machine in."""

    text: str
    #: None for a full name; for a short name its domains (empty when none is known)
    short_in: frozenset[str] | None = None


def scoped_machine_keys(
    *,
    hint: str | None,
    asset_name: str | None,
    ip_address: str | None,
    domain_map: Mapping[str, str] | None = None,
) -> tuple[MachineKey, ...]:
    """``machine_keys`` in order, each short name with its domains (see the module docstring)."""
    hosts = [h for h in (_host(asset_name), _host(ip_address)) if h]
    full = {h.casefold() for h in hosts}
    full.update(a.casefold() for a in (asset_name, ip_address) if a and is_ip_address(a))
    if asset_name:
        full.add((asset_name.rstrip(".") or asset_name).casefold())
    hinted = normalize_domain(hint, domain_map) if hint else ""
    scoped = []
    for key in machine_keys(asset_name, ip_address):
        if key.casefold() in full:
            scoped.append(MachineKey(key))
            continue
        if hint:
            domains = {hinted}
        else:
            domains = {
                normalize_domain(host.split(".", 1)[1], domain_map)
                for host in hosts
                if (short_name(host) or "").casefold() == key.casefold()
            }
        scoped.append(MachineKey(key, frozenset(d for d in domains if d)))
    return tuple(scoped)


def normalize_domain(name: str, domain_map: Mapping[str, str] | None = None) -> str:
    """A domain name as compared: ``CORP`` for ``corp``, ``corp.example.com`` or a mapped suffix.

    ``domain_map`` keys are lower-case DNS suffixes, values upper-case domain names.
    """
    name = name.strip().rstrip(".")
    if "." not in name:
        return name.upper()
    folded = name.casefold()
    best: str | None = None
    for suffix in domain_map or {}:
        if (folded == suffix or folded.endswith("." + suffix)) and (
            best is None or len(suffix) > len(best)
        ):
            best = suffix
    if best is not None:
        return (domain_map or {})[best]
    return name.split(".", 1)[0].upper()


def domain_spellings(
    name: str, written: Iterable[str], domain_map: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The ways a domain field may hold the domain ``name``, the name first.

    ``written``: DNS names seen for it (the asset's suffix, the ``domains`` setting); with the
    suffixes of ``domain_map``, those that stand for ``name`` are kept, duplicates (any case)
    dropped.
    """
    spellings: list[str] = []
    seen: set[str] = set()
    for text in (name, *written, *(domain_map or {})):
        candidate = text.strip().rstrip(".")
        folded = candidate.casefold()
        if not candidate or folded in seen or normalize_domain(candidate, domain_map) != name:
            continue
        seen.add(folded)
        spellings.append(candidate)
    return tuple(spellings)


@dataclass(frozen=True, slots=True)
class AssetDomain:
    """The asset's domain name (or None), the text it came from, and where, for the trace."""

    name: str | None
    source: str
    #: the domain as written where it was found (``corp.example.com``), if anywhere
    written: str | None = None


def asset_domain(
    *,
    hint: str | None,
    asset_name: str | None,
    ip_address: str | None,
    default_domain: str | None,
    domain_map: Mapping[str, str] | None = None,
) -> AssetDomain:
    """The asset's domain by the rules of the module docstring."""
    if hint:
        return AssetDomain(normalize_domain(hint, domain_map), "the query's domain hint", hint)
    for host in (_host(asset_name), _host(ip_address)):
        if host and "." in host:
            suffix = host.split(".", 1)[1]
            if suffix:
                return AssetDomain(
                    normalize_domain(suffix, domain_map), f"the suffix of {host}", suffix
                )
    if default_domain:
        return AssetDomain(
            normalize_domain(default_domain, domain_map), "default_domain", default_domain
        )
    return AssetDomain(None, "no hint, no FQDN, no default_domain")
