"""``credchain add``: configure the Secret Server entry ``thycotic``, as SAFE's ``-o add`` does.

Seed 000 sections 2.3 and 2.4, in that order and wording: URL, authorization path, secrets path,
port, username, password (or, with ``--grant client_credentials``, an SDK client's id and
secret: seed 004), Verify SSL (No: show the certificate and pin its fingerprint); then a test of
the connection and the login; then the mapping and a sanity test value, resolved and shown with
the password masked. Only then is anything written: the config (password or client secret
encrypted) and ``integrations/custom/thycotic/thycotic_mapping.json``, in one transaction
(``credchain.configstore``). Running it again replaces the entry's connection and mapping and
keeps its other settings (``comment``, timeouts...). ``--yes`` asks nothing: flags and defaults.

The thycotic plugin adds this command through the entry-point group ``credchain.commands``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from pydantic import ValidationError

from credchain.cli.chain import shadow_warnings, warn
from credchain.cli.guidance import fail, print_problem
from credchain.cli.output import mask
from credchain.cli.prompts import Asker, check_url
from credchain.config import parse_config, settings_error
from credchain.configstore import ConfigStore, LastTest, upsert_provider
from credchain.errors import CredchainError
from credchain.home import CUSTOM_DIR
from credchain.models import AssetQuery, SafeCredential
from credchain.provider import ProviderContext, Where
from credchain.resolver import ChainEntry, Resolver
from credchain.secretstore import SecretStore
from credchain_thycotic import ThycoticProvider, ThycoticSettings
from credchain_thycotic.add_fallback import FALLBACK_ENTRY, ask_fallback, place_fallback
from credchain_thycotic.advice import thycotic_advice
from credchain_thycotic.client import SecretServerClient
from credchain_thycotic.login_prompts import ask_login
from credchain_thycotic.mapping import MAPPING_FILE, Mapping, SafeField
from credchain_thycotic.settings import quoted
from credchain_thycotic.trust import pin_certificate, trust_verified

__all__ = ["ENTRY", "MAPPING_PATH", "add"]

#: the chain entry ``add`` writes
ENTRY = "thycotic"
#: where the mapping goes, relative to the home (SAFE's place for it)
MAPPING_PATH = CUSTOM_DIR / MAPPING_FILE
#: settings ``add`` owns; the entry's other settings survive a new ``add``
_MANAGED = frozenset(
    {"type", "url", "auth_path", "secrets_path", "port", "grant", "username", "password"}
    | {"password_env", "client_id", "client_secret", "client_secret_env", "verify_ssl"}
    | {"fingerprint_sha256", "ca_bundle", "mapping", "mapping_file"}
)
#: the answer that clears an optional field (Enter keeps the value shown)
CLEAR = "-"
#: what the field prompts say about case: what the search does (SAFE's said "case sensitive")
_ANY_CASE = "(name or slug, any case)"
_SAFE_FIELDS: dict[str, SafeField] = {"1": "asset_name", "2": "ip_address", "3": "cmdb_id"}
_SAFE_FIELD_PROMPT = (
    "Select the SAFE field name for asset identification "
    "(1: Asset Name, 2: IP Address or Hostname, 3: CMDB ID)"
)


@dataclass(frozen=True)
class Connection:
    """The answers to seed 000 step 3, as the entry's settings (password in plain text)."""

    table: dict[str, Any]
    #: the stored password (or client secret) is kept as it is: already encrypted, or ``_env``
    kept_secret: bool = False

    @property
    def where(self) -> Where:
        return Where(url=self.table["url"], port=self.table["port"])


def _previous(document: dict[str, Any]) -> dict[str, Any]:
    providers = document.get("providers")
    table = providers.get(ENTRY) if isinstance(providers, dict) else None
    return dict(table) if isinstance(table, dict) else {}


def _ask_connection(
    ask: Asker, flags: dict[str, Any], previous: dict[str, Any], home: Path
) -> Connection:
    url = ask.text(
        "Thycotic URL",
        flag=flags["url"],
        option="--url",
        default=previous.get("url"),
        check=check_url,
    )
    auth_path = ask.text(
        "Thycotic authorization URL path",
        flag=flags["auth_path"],
        option="--auth-path",
        default=previous.get("auth_path", "SecretServer/oauth2/token"),
    ).strip("/")
    secrets_path = ask.text(
        "Thycotic secrets URL path",
        flag=flags["secrets_path"],
        option="--secrets-path",
        default=previous.get("secrets_path", "SecretServer/api/v1/secrets"),
    ).strip("/")
    url = _without_doubled_prefix(url, auth_path, secrets_path)
    port = ask.number(
        "Thycotic port",
        flag=flags["port"],
        option="--port",
        default=urlsplit(url).port or int(previous.get("port", 443)),
        low=1,
        high=65535,
    )
    login, kept = ask_login(ask, flags, previous)
    verify = ask.confirm(
        "Verify SSL", flag=flags["verify_ssl"], default=bool(previous.get("verify_ssl", True))
    )
    table: dict[str, Any] = {
        "url": url,
        "auth_path": auth_path,
        "secrets_path": secrets_path,
        "port": port,
        **login,
    }
    if flags["domain"] is not None or previous.get("domain"):
        table["domain"] = flags["domain"] if flags["domain"] is not None else previous["domain"]
    if verify:
        if flags["fingerprint"] is not None:
            raise click.UsageError("--fingerprint pins a certificate: use it with --no-verify-ssl")
        stored = previous.get("ca_bundle") if previous.get("verify_ssl", True) else None
        ca_bundle = stored if isinstance(stored, str) else None
        if flags["ca_bundle"] is not None:
            ca_bundle = str(Path(flags["ca_bundle"]).resolve())
        in_home = _anchored(ca_bundle, home)
        trust = trust_verified(ask, url, port, in_home)
        table.update(trust.settings())
        if ca_bundle is not None and trust.ca_bundle == in_home:
            table["ca_bundle"] = ca_bundle  # as stored: a relative one stays in the home
    else:
        if flags["ca_bundle"] is not None:
            raise click.UsageError("--ca-bundle is used only with Verify SSL (--verify-ssl)")
        info = pin_certificate(ask, url, port, flags["fingerprint"])
        table.update(verify_ssl=False, fingerprint_sha256=info.sha256)
    return Connection(table, kept_secret=kept)


def _anchored(ca_bundle: str | None, home: Path) -> str | None:
    """A stored relative ``ca_bundle`` is in the home (as the provider reads it)."""
    if ca_bundle is None or Path(ca_bundle).expanduser().is_absolute():
        return ca_bundle
    return str(home / ca_bundle)


def _without_doubled_prefix(url: str, auth_path: str, secrets_path: str) -> str:
    """A URL ending in ``/SecretServer`` with paths that begin with it would ask for
    ``/SecretServer/SecretServer/...``: the URL's copy is dropped, and the admin told."""
    parts = urlsplit(url)
    head, _, last = parts.path.rstrip("/").rpartition("/")
    prefix = f"{last}/".casefold()
    if not last or not all(p.casefold().startswith(prefix) for p in (auth_path, secrets_path)):
        return url
    fixed = parts._replace(path=head).geturl()
    click.echo(
        f"The URL ends in /{last} and the paths begin with {last}/: using the URL {fixed} "
        f"(the token URL is {fixed}/{auth_path})."
    )
    return fixed


def _settings(table: dict[str, Any], home: Path) -> ThycoticSettings:
    """The provider settings ``table`` stands for (``enc:``/``_env`` values resolved)."""
    config = parse_config({"providers": {ENTRY: table}}, path=None, home=home)
    try:
        return ThycoticSettings.model_validate(dict(config.entry(ENTRY).settings))
    except ValidationError as exc:
        fail(settings_error(exc, key=f"providers.{ENTRY}", kind="thycotic"))


def _login(settings: ThycoticSettings, where: Where) -> None:
    client = SecretServerClient(settings)
    try:
        client.token()
    except CredchainError as exc:
        click.echo("Nothing was saved.", err=True)
        fail(exc, stage="login", where=where, advice=thycotic_advice(exc, settings))
    finally:
        client.close()
    click.secho("✓ ", fg="green", nl=False)
    click.echo(f"Connected to {settings.base_url} and logged in as {quoted(settings.login_name)}.")


def _ask_mapping(ask: Asker, flags: dict[str, Any], previous: Mapping) -> Mapping:
    default_choice = {v: k for k, v in _SAFE_FIELDS.items()}[previous.safe_field]
    safe_field = ask.choice(
        _SAFE_FIELD_PROMPT,
        flag=flags["safe_field"],
        option="--safe-field",
        choices=_SAFE_FIELDS,
        default=default_choice,
    )
    thycotic_field = ask.text(
        f"Select the Thycotic field name for asset identification {_ANY_CASE}",
        flag=flags["thycotic_field"],
        option="--thycotic-field",
        default=previous.thycotic_field,
    )
    username_field = ask.text(
        f"Enter Thycotic field name for username {_ANY_CASE}",
        flag=flags["username_field"],
        option="--username-field",
        default=previous.username_field,
    )
    password_field = ask.text(
        f"Enter the Thycotic field name for the password {_ANY_CASE}",
        flag=flags["password_field"],
        option="--password-field",
        default=previous.password_field,
    )
    privilege_field = ask.text(
        "Enter the Thycotic field name for the privilege password (optional; - for none)",
        flag=flags["privilege_password_field"],
        option="--privilege-password-field",
        default=previous.privilege_password_field,
        optional=True,
    )
    try:
        return Mapping(
            safe_field=safe_field,
            thycotic_field=thycotic_field,
            username_field=username_field,
            password_field=password_field,
            privilege_password_field=None if privilege_field in ("", CLEAR) else privilege_field,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise click.UsageError(f"mapping {error['loc'][0]}: {error['msg']}") from None


def _previous_mapping(previous: dict[str, Any], home: Path) -> Mapping:
    """The mapping saved by an earlier ``add``, for defaults; SAFE's defaults otherwise."""
    try:
        settings = ThycoticSettings.model_validate(
            {"url": "https://x", "username": "x", "password": "x"}
            | {k: v for k, v in previous.items() if k in ("mapping", "mapping_file")}
        )
        return settings.resolved_mapping(home)
    except (ValidationError, CredchainError):
        return Mapping()


def _sanity(
    settings: ThycoticSettings, mapping: Mapping, value: str, home: Path, where: Where
) -> tuple[SafeCredential | None, BaseException | None]:
    """Resolve ``value`` through a provider with the new mapping: the credential or the error."""
    provider = ThycoticProvider(
        settings.model_copy(update={"mapping": mapping, "mapping_file": None}),
        ProviderContext(ENTRY, home),
    )
    query = AssetQuery.from_query_data({mapping.safe_field: value})
    with Resolver([ChainEntry(ENTRY, provider, type="thycotic")]) as resolver:
        try:
            credential = resolver.resolve(query)
            provider.check_fields(query)  # the privilege field too, which resolve may not need
        except CredchainError as exc:
            return None, exc
        return credential, None


def _previous_value(store: ConfigStore, safe_field: str) -> str | None:
    """The value the last test passed with (at first the last ``add``'s), for this field."""
    last = store.last_test()
    if last is None:
        return None
    return last.known_good.get(safe_field) or last.query.get(safe_field) or None


def _show_credential(credential: SafeCredential) -> None:
    privilege = credential.privilege_password
    click.secho("✓ ", fg="green", nl=False)
    click.echo(f"Sanity test passed: {credential.detail or 'found'}")
    click.echo(f"  username:           {credential.username}")
    click.echo(f"  password:           {mask(credential.password.get_secret_value())}")
    click.echo(
        "  privilege password: "
        + (mask(privilege.get_secret_value()) if privilege is not None else "(none)")
    )


def _save(
    store: ConfigStore,
    connection: Connection,
    previous: dict[str, Any],
    mapping: Mapping,
    fallback: dict[str, Any] | None,
) -> dict[str, Any]:
    """Encrypt the password (or client secret); write the mapping and config in one transaction."""
    store.ensure_home()
    table = connection.table
    final = {k: v for k, v in previous.items() if k not in _MANAGED}
    final["type"] = "thycotic"
    final.update(table)
    secret = "client_secret" if table.get("grant") == "client_credentials" else "password"
    if not connection.kept_secret:
        final[secret] = SecretStore(store.home).encrypt(table[secret])
    final["mapping_file"] = MAPPING_PATH.as_posix()
    _settings(final, store.home)  # what is written must load
    with store.transaction() as txn:
        document = store.load()
        fresh = not document
        upsert_provider(document, ENTRY, final)
        if fallback is not None:
            place_fallback(document, fallback, after=ENTRY)
        if fresh or "enabled" not in document:
            document["enabled"] = True
        txn.stage(store.home / MAPPING_PATH, json.dumps(mapping.to_safe_json()) + "\n")
        store.stage_config(txn, document)
    return document


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
@click.option("--url", help="Thycotic URL, e.g. https://vault.example.com.")
@click.option("--auth-path", help="Authorization URL path [SecretServer/oauth2/token].")
@click.option("--secrets-path", help="Secrets URL path [SecretServer/api/v1/secrets].")
@click.option("--port", type=click.IntRange(1, 65535), help="Thycotic port [443].")
@click.option("--username", help="Thycotic username.")
@click.option(
    "--password",
    envvar="CREDCHAIN_THYCOTIC_PASSWORD",
    help="Thycotic password; prefer the CREDCHAIN_THYCOTIC_PASSWORD environment variable.",
)
@click.option("--domain", help="Login domain of the Thycotic account, if any.")
@click.option(
    "--grant",
    type=click.Choice(["password", "client_credentials"]),
    help="How to log in [password]; client_credentials: an SDK client's id and secret.",
)
@click.option("--client-id", help="With --grant client_credentials: the SDK client id.")
@click.option(
    "--client-secret",
    envvar="CREDCHAIN_THYCOTIC_CLIENT_SECRET",
    help="The SDK client secret; prefer the CREDCHAIN_THYCOTIC_CLIENT_SECRET variable.",
)
@click.option("--verify-ssl/--no-verify-ssl", default=None, help="Verify SSL [yes].")
@click.option("--fingerprint", help="With --no-verify-ssl: the SHA-256 fingerprint to pin.")
@click.option(
    "--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="PEM of CAs to trust."
)
@click.option(
    "--safe-field",
    help="SAFE field for asset identification: 1/asset_name, 2/ip_address, 3/cmdb_id.",
)
@click.option("--thycotic-field", help="Thycotic field to search (case sensitive).")
@click.option("--username-field", help="Thycotic field holding the username [username].")
@click.option("--password-field", help="Thycotic field holding the password [password].")
@click.option("--privilege-password-field", help="Thycotic field of the privilege password.")
@click.option("--test-value", help="A Thycotic field value to test script sanity.")
@click.option(
    "--domain-fallback",
    is_flag=True,
    help="Also set up a domain-fallback entry over this connection (seed 002).",
)
@click.option("--fallback-domains", help="With --domain-fallback: domains, comma-separated.")
@click.option("--default-domain", help="With --domain-fallback: the default domain ('-': none).")
@click.option(
    "--fallback-to-local/--no-fallback-to-local",
    default=None,
    help="With --domain-fallback: fall back to a local account [no].",
)
@click.option("--fallback-username", help="With --domain-fallback: the bare account name.")
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: take the flags and defaults.")
@click.pass_context
def add(ctx: click.Context, /, config_path: str | None, yes: bool, **flags: Any) -> None:
    """Add or replace the Secret Server configuration (SAFE's configure -o add).

    Exit status: 0 saved; 1 a check failed and nothing was saved; 2 a flag is missing or wrong.
    """
    ask = Asker(interactive=not yes)
    store = ConfigStore.find(config_path)
    try:
        previous = _previous(store.load())
    except CredchainError as exc:
        fail(exc, stage="config")
    connection = _ask_connection(ask, flags, previous, store.home)
    try:
        settings = _settings(connection.table, store.home)
    except CredchainError as exc:
        fail(exc, stage="config")
    _login(settings, connection.where)

    mapping = _ask_mapping(ask, flags, _previous_mapping(previous, store.home))
    value = ask.text(
        "Enter a valid Thycotic Field value to test script sanity",
        flag=flags["test_value"],
        option="--test-value",
        default=_previous_value(store, mapping.safe_field),
    )
    where = Where(
        url=connection.where.url,
        port=connection.where.port,
        mapping_file=store.home / MAPPING_PATH,
        search=f"{mapping.thycotic_field} = {value!r}",
    )
    credential, error = _sanity(settings, mapping, value, store.home, where)
    query: dict[str, str | None] = {mapping.safe_field: value}
    if credential is None:
        assert error is not None
        if ctx.find_root().params.get("debug"):
            raise error
        advice = thycotic_advice(
            error, settings, search=where.search, mapping_file=where.mapping_file
        )
        print_problem(error, stage="lookup", where=where, advice=advice)
        keep = ask.interactive and click.confirm("Save this configuration anyway?", default=False)
        if not keep:
            click.echo("Nothing was saved.", err=True)
            ctx.exit(1)
        summary = f"sanity test failed: {error}"
    else:
        _show_credential(credential)
        summary = f"found {credential.detail or 'it'}, username {credential.username!r}"
    fallback = None
    if flags.pop("domain_fallback"):
        tables = store.load().get("providers") or {}
        before = tables.get(FALLBACK_ENTRY)
        before = before if isinstance(before, dict) else {}
        fallback = ask_fallback(ask, flags, before, connection=ENTRY)
    document = _save(store, connection, previous, mapping, fallback)
    store.record_test(
        LastTest.now(
            ok=credential is not None,
            summary=summary,
            entry=ENTRY,
            query=query,
            previous=store.last_test(),
        )
    )
    state = "Enabled" if document.get("enabled", True) else "Disabled"
    click.echo(f"Saved {store.path} and {store.home / MAPPING_PATH}.")
    if fallback is not None:
        click.echo(f"Chain: {' -> '.join(document['chain'])}")
    for text in shadow_warnings(document):
        warn(text)
    click.echo(f"Status: {state}" + ("" if state == "Enabled" else " (run: credchain enable)"))
    if credential is None:
        ctx.exit(1)
