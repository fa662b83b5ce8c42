"""``credchain test``: check the stored configuration, and try an asset (SAFE's test script).

- ``credchain test [--asset-name ...]``: build and check each chain entry (its settings, then,
  for a provider that ``Checks``, its own check: a Secret Server logs in afresh, a custom script
  is loaded; for any other provider, its ``verify_tls`` and ``authenticate(renew=True)`` hooks),
  then resolve the asset through the chain, passwords masked. An entry with ``on_error =
  "next"`` that fails is reported and skipped, and the asset tried through the rest, as
  ``resolve`` would. Without a query, the asset of the last query that passed (at first the
  ``add`` sanity value) is used, if any. A provider's unexpected exception is one line; its
  traceback only with ``--debug``.
- ``credchain test ENTRY --asset-name ...``: one entry. A provider that ``ListsCandidates``
  lists what it would try (rule, secret id, secret name, username; never a password); others
  resolve through that entry alone.
- The entry that found the credential checks, if it ``ChecksFields``, that every field it is
  configured to read (the privilege password field too) is a field of the secret; a chain
  entry that answers every asset before others gets a warning (``credchain.cli.chain``).

Advice on errors points where a provider that ``Locates`` says, and is the provider's own when
it ``Advises`` (``credchain.provider``).

Exit status: 0 passed; 1 a check failed; 2 usage; 3 the asset was not found. The result is
stored in the home's ``last_test.json`` for ``credchain status``.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import click

from credchain.cli.admin import DISABLED, config_option, state_of
from credchain.cli.chain import shadow_warnings, warn
from credchain.cli.completion import complete_entries
from credchain.cli.guidance import Case, fail, print_problem, provider_advice
from credchain.cli.output import print_credential, print_table
from credchain.config import Config, load_config
from credchain.configstore import ConfigStore, LastTest
from credchain.errors import CredchainError, CredentialNotFound
from credchain.models import AssetQuery
from credchain.plugins import build_provider, load_provider_classes
from credchain.provider import (
    Candidate,
    Checks,
    ChecksFields,
    ListsCandidates,
    Locates,
    ProviderContext,
    Where,
)
from credchain.resolver import ChainEntry, Resolver, close_providers

__all__ = ["test"]

EXIT_OK, EXIT_FAILED, EXIT_NOT_FOUND = 0, 1, 3


def _build(config: Config, name: str) -> ChainEntry:
    """The chain entry ``name``, built as the resolver would build it."""
    entry = config.entry(name)
    cls = load_provider_classes([entry.type]).classes[entry.type]
    context = ProviderContext(entry=name, home=config.home, config=config)
    provider = build_provider(entry, cls, context, config_path=str(config.path))
    return ChainEntry(name, provider, entry.on_error, entry.type)


def _where(entry: ChainEntry | None, query: AssetQuery | None) -> Where:
    """What the advice can point at, if the entry's provider says (``Locates``)."""
    provider = entry.provider if entry is not None else None
    return provider.where(query) if isinstance(provider, Locates) else Where()


def _ok(text: str) -> None:
    click.secho("✓ ", fg="green", nl=False)
    click.echo(text)


def _check(entry: ChainEntry) -> str:
    """Check one built entry; returns what passed, raises what did not."""
    provider = entry.provider
    if isinstance(provider, Checks):
        return provider.check()
    called = Resolver([entry]).log_in(entry.name)
    return "settings valid" + (f"; {' and '.join(called)} passed" if called else "")


def _provider_bug(name: str, exc: Exception) -> str:
    """One line for a provider's unexpected exception; its traceback too with ``--debug``."""
    line = f"provider bug: unexpected {type(exc).__name__} (run with --debug for the traceback)"
    click.secho("✗ ", fg="red", nl=False, err=True)
    click.echo(f"{name}: {line}", err=True)
    if click.get_current_context().find_root().params.get("debug"):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    return f"{name}: {line}"


def _query(
    asset_name: str | None, ip_address: str | None, cmdb_id: str | None, store: ConfigStore
) -> tuple[AssetQuery | None, bool]:
    """The query from the flags, else the last one that passed; and whether flags gave it."""
    given = {"asset_name": asset_name, "ip_address": ip_address, "cmdb_id": cmdb_id}
    if any(given.values()):
        return AssetQuery.from_query_data({k: v for k, v in given.items() if v}), True
    last = store.last_test()
    if last is not None and last.known_good:
        try:
            return AssetQuery.from_query_data(dict(last.known_good)), False
        except CredchainError:
            return None, False
    return None, False


def _show_candidates(candidates: list[Candidate], entry: str) -> None:
    print_table(
        ("rule", "secret id", "secret name", "username"),
        [(c.rule, c.secret_id, c.secret_name, c.username) for c in candidates],
        title=f"candidates of {entry}",
    )


@contextmanager
def _closing(entries: list[ChainEntry]) -> Iterator[list[ChainEntry]]:
    try:
        yield entries
    finally:
        close_providers(entries)


def _resolve(entries: list[ChainEntry], query: AssetQuery) -> tuple[int, str]:
    """Resolve ``query`` through ``entries``; print the result; return (exit code, summary)."""
    resolver = Resolver(entries)  # enabled: a disabled config is still testable
    where = _where(entries[0] if entries else None, query)
    providers = [(entry.name, entry.provider) for entry in entries]
    try:
        credential = resolver.resolve(query)
    except CredentialNotFound as exc:
        advice = provider_advice(providers, exc, query)
        print_problem(exc, stage="lookup", where=where, case=Case.NO_DATA, advice=advice)
        return EXIT_NOT_FOUND, f"{query.label()}: not found"
    except CredchainError as exc:
        advice = provider_advice(providers, exc, query)
        print_problem(exc, stage="lookup", where=where, advice=advice)
        return EXIT_FAILED, f"{query.label()}: {exc}"
    print_credential(credential, query, title="credential")
    found_by = next((e for e in entries if e.name == credential.source), None)
    if found_by is not None and isinstance(found_by.provider, ChecksFields):
        try:
            _ok(f"{found_by.name}: {found_by.provider.check_fields(query)}")
        except CredchainError as exc:
            advice = provider_advice(providers, exc, query)
            print_problem(exc, stage="lookup", where=where, advice=advice)
            return EXIT_FAILED, f"{query.label()}: {exc}"
    return EXIT_OK, (
        f"{query.label()}: found by {credential.source}"
        + (f" ({credential.detail})" if credential.detail else "")
        + f", username {credential.username!r}"
    )


@click.command(name="test")
@config_option
@click.argument("entry_name", metavar="[ENTRY]", required=False, shell_complete=complete_entries)
@click.option("--asset-name", help="Try this asset name.")
@click.option("--ip-address", help="Try this IP address or host name.")
@click.option("--cmdb-id", help="Try this CMDB id.")
@click.pass_context
def test(
    ctx: click.Context,
    /,
    config_path: str | None,
    entry_name: str | None,
    asset_name: str | None,
    ip_address: str | None,
    cmdb_id: str | None,
) -> None:
    """Check the configuration and try an asset, passwords masked (SAFE's test-thycotic-script)."""
    store = ConfigStore.find(config_path)
    try:
        document = store.load()
        if not document.get("chain"):
            fail("Not configured: run 'credchain add' (or configure-thycotic) first.")
        config = load_config(store.path)
        query, from_flags = _query(asset_name, ip_address, cmdb_id, store)
    except CredchainError as exc:
        fail(exc, stage="config")
    for text in shadow_warnings(document):
        warn(text)
    if state_of(document) == DISABLED:
        click.echo(
            "credchain: warning: Disabled (run 'credchain enable'); testing anyway", err=True
        )
    if entry_name is not None:
        if not from_flags or query is None:
            raise click.UsageError("give --asset-name, --ip-address or --cmdb-id with ENTRY")
        code, summary = _test_entry(config, entry_name, query)
    else:
        code, summary = _test_chain(config, query, from_flags)
    store.record_test(
        LastTest.now(
            ok=code == EXIT_OK,
            summary=summary,
            entry=entry_name,
            query=query.to_query_data() if query else {},
            previous=store.last_test(),
        )
    )
    ctx.exit(code)


def _test_entry(config: Config, name: str, query: AssetQuery) -> tuple[int, str]:
    if name not in config.providers and name not in config.chain:
        known = ", ".join(sorted({*config.chain, *config.providers}))
        raise click.BadParameter(f"no chain entry {name!r} (entries: {known})", param_hint="ENTRY")
    try:
        built = _build(config, name)
    except CredchainError as exc:
        fail(exc, stage="config")
    with _closing([built]):
        provider = built.provider
        if not isinstance(provider, ListsCandidates):
            return _resolve([built], query)
        try:
            found: list[Candidate] = list(provider.candidates(query))
        except CredchainError as exc:
            print_problem(exc, stage="lookup", where=_where(built, query))
            return EXIT_FAILED, f"{name}: {exc}"
        except Exception as exc:  # a third-party provider's bug
            return EXIT_FAILED, _provider_bug(name, exc)
        if not found:
            print_problem(
                f"{name} has no candidate for {query.label()!r}",
                where=_where(built, query),
                case=Case.NO_DATA,
            )
            return EXIT_NOT_FOUND, f"{name}: no candidate for {query.label()!r}"
        _show_candidates(found, name)
        return EXIT_OK, f"{name}: {len(found)} candidate(s) for {query.label()!r}"


def _test_chain(config: Config, query: AssetQuery | None, from_flags: bool) -> tuple[int, str]:
    entries: list[ChainEntry] = []
    failures: list[str] = []
    fatal = False
    with _closing(entries):
        for name in config.chain:
            built: ChainEntry | None = None
            passed = False
            try:
                built = _build(config, name)
                entries.append(built)
                _ok(f"{name} ({built.type}): {_check(built)}")
                passed = True
            except CredchainError as exc:
                click.secho("✗ ", fg="red", nl=False, err=True)
                click.echo(f"{name}:", err=True)
                advice = provider_advice([(name, built.provider)], exc, query) if built else None
                print_problem(exc, stage="login", where=_where(built, query), advice=advice)
                failures.append(f"{name}: {exc}")
            except Exception as exc:  # a third-party provider's bug is its entry's failure
                failures.append(_provider_bug(name, exc))
            if passed:
                continue
            if config.entry(name).on_error == "next":
                click.echo('  skipped (on_error = "next"): trying the rest of the chain', err=True)
                if built is not None:
                    entries.remove(built)
                    close_providers([built])
            else:
                fatal = True
        if fatal or (failures and not entries):
            return EXIT_FAILED, "; ".join(failures)
        if query is None:
            click.echo("No asset to try: give --asset-name, --ip-address or --cmdb-id.")
            if failures:
                return EXIT_FAILED, "; ".join(failures)
            return EXIT_OK, "every chain entry passed its checks"
        if not from_flags:
            click.echo(f"Trying the asset of the last passing test: {query.label()}")
        code, summary = _resolve(entries, query)
        if failures:  # the asset may be found, but a check failed
            return EXIT_FAILED, "; ".join([*failures, summary])
        return code, summary
