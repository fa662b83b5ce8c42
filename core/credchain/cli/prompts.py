"""Asking the admin: a prompt per setting, each with its flag, for ``credchain add``.

With ``--yes`` nothing is asked: a flag's value, else the default, else a usage error (exit 2)
naming the flag. A flag's value is checked like a typed answer; a bad typed answer is asked again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from credchain.tls import CertificateInfo, normalize_fingerprint

__all__ = [
    "Asker",
    "check_fingerprint",
    "check_url",
    "show_certificate",
]

T = TypeVar("T")


def check_url(value: str) -> str:
    """An https URL; ``vault.example.com`` is taken as ``https://vault.example.com``."""
    text = value.strip()
    if text and "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise click.BadParameter("must be an https URL such as https://vault.example.com")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise click.BadParameter("the port in the URL is not a number") from None
    if parts.query or parts.fragment:
        raise click.BadParameter("must not have a query or fragment")
    return text.rstrip("/")


def check_fingerprint(value: str) -> str:
    """A SHA-256 fingerprint (64 hex digits, colons optional), normalised; empty stays empty."""
    if not value.strip():
        return ""
    try:
        return normalize_fingerprint(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def show_certificate(info: CertificateInfo, where: str) -> None:
    """What the admin checks before pinning: fingerprint, subject, issuer, expiry."""
    expiry = info.not_after.astimezone(UTC)
    expired = " (EXPIRED)" if expiry < datetime.now(UTC) else ""
    click.echo(f"The server at {where} presents this certificate:")
    click.echo("  SHA-256 fingerprint: ", nl=False)
    click.secho(info.fingerprint, bold=True)
    click.echo(f"  subject:             {info.subject}")
    click.echo(f"  issuer:              {info.issuer}")
    click.echo(f"  expires:             {expiry:%Y-%m-%d %H:%M} UTC{expired}")


class Asker:
    """Prompts when interactive; flags and defaults otherwise."""

    def __init__(self, *, interactive: bool) -> None:
        self.interactive = interactive

    def text(
        self,
        prompt: str,
        *,
        flag: str | None,
        option: str,
        default: str | None = None,
        check: Callable[[str], str] | None = None,
        hide_input: bool = False,
        optional: bool = False,
    ) -> str:
        """A text answer; ``optional`` allows an empty one."""
        if flag is not None:
            return _checked(flag, check, option)
        if self.interactive:
            value: str = click.prompt(
                prompt,
                default=default if default is not None else ("" if optional else None),
                show_default=bool(default),
                hide_input=hide_input,
                value_proc=check,
            )
            return value.strip() if not hide_input else value
        if default is not None or optional:
            return _checked(default or "", check, option) if default else ""
        raise click.UsageError(f"{option} is required with --yes")

    def number(
        self, prompt: str, *, flag: int | None, option: str, default: int, low: int, high: int
    ) -> int:
        if flag is not None:
            return flag
        if not self.interactive:
            return default
        value: int = click.prompt(prompt, default=default, type=click.IntRange(low, high))
        return value

    def choice(
        self, prompt: str, *, flag: str | None, option: str, choices: dict[str, T], default: str
    ) -> T:
        """One of ``choices`` (answer -> value); the flag may give the answer or the value."""
        by_value = {str(value): value for value in choices.values()}
        if flag is not None:
            if flag in choices:
                return choices[flag]
            if flag in by_value:
                return by_value[flag]
            raise click.BadParameter(f"choose one of {', '.join(choices)}", param_hint=option)
        if not self.interactive:
            return choices[default]
        answer: str = click.prompt(
            prompt,
            default=default,
            type=click.Choice([*choices, *by_value]),
            show_choices=False,
        )
        return choices[answer] if answer in choices else by_value[answer]

    def confirm(self, prompt: str, *, flag: bool | None, default: bool) -> bool:
        if flag is not None:
            return flag
        if not self.interactive:
            return default
        return click.confirm(prompt, default=default)


def _checked(value: str, check: Callable[[str], Any] | None, option: str) -> str:
    if check is None:
        return value
    try:
        result: str = check(value)
    except click.BadParameter as exc:
        raise click.BadParameter(exc.message, param_hint=option) from None
    return result
