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
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from pydantic import ValidationError

from credchain.cli.guidance import Case, fail, print_problem
from credchain.cli.output import mask
from credchain.cli.prompts import Asker, check_fingerprint, check_url, show_certificate
from credchain.config import parse_config, settings_error
from credchain.configstore import ConfigStore, LastTest, upsert_provider
from credchain.errors import CredchainError
from credchain.home import CUSTOM_DIR
from credchain.models import AssetQuery, SafeCredential
from credchain.provider import ProviderContext, Where
from credchain.resolver import ChainEntry, Resolver
from credchain.secretstore import SecretStore
from credchain.tls import fetch_certificate, format_fingerprint
from credchain_thycotic import ThycoticProvider, ThycoticSettings
from credchain_thycotic.client import SecretServerClient
from credchain_thycotic.login_prompts import ask_login
from credchain_thycotic.mapping import MAPPING_FILE, Mapping, SafeField

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
_SAFE_FIELDS: dict[str, SafeField] = {"1": "asset_name", "2": "ip_address", "3": "cmdb_id"}
_SAFE_FIELD_PROMPT = (
    "Select the SAFE field name for asset identification "
    "(1: Asset Name, 2: IP Address or Hostname, 3: CMDB ID)"
)


@dataclass(frozen=True)
class Connection:
    """The answers to seed 000 step 3, as the entry's settings (password in plain text)."""

    table: dict[str, Any]

    @property
    def where(self) -> Where:
        return Where(url=self.table["url"], port=self.table["port"])


def _previous(document: dict[str, Any]) -> dict[str, Any]:
    providers = document.get("providers")
    table = providers.get(ENTRY) if isinstance(providers, dict) else None
    return dict(table) if isinstance(table, dict) else {}


def _ask_connection(ask: Asker, flags: dict[str, Any], previous: dict[str, Any]) -> Connection:
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
    )
    secrets_path = ask.text(
        "Thycotic secrets URL path",
        flag=flags["secrets_path"],
        option="--secrets-path",
        default=previous.get("secrets_path", "SecretServer/api/v1/secrets"),
    )
    port = ask.number(
        "Thycotic port",
        flag=flags["port"],
        option="--port",
        default=urlsplit(url).port or int(previous.get("port", 443)),
        low=1,
        high=65535,
    )
    login = ask_login(ask, flags, previous)
    verify = ask.confirm(
        "Verify SSL", flag=flags["verify_ssl"], default=bool(previous.get("verify_ssl", True))
    )
    table: dict[str, Any] = {
        "url": url,
        "auth_path": auth_path.strip("/"),
        "secrets_path": secrets_path.strip("/"),
        "port": port,
        **login,
        "verify_ssl": verify,
    }
    if flags["domain"] is not None or previous.get("domain"):
        table["domain"] = flags["domain"] if flags["domain"] is not None else previous["domain"]
    if verify:
        if flags["fingerprint"] is not None:
            raise click.UsageError("--fingerprint pins a certificate: use it with --no-verify-ssl")
        if flags["ca_bundle"] is not None:
            table["ca_bundle"] = str(Path(flags["ca_bundle"]).resolve())
    else:
        if flags["ca_bundle"] is not None:
            raise click.UsageError("--ca-bundle is used only with Verify SSL (--verify-ssl)")
        table["fingerprint_sha256"] = _pin(ask, url, port, flags["fingerprint"])
    return Connection(table)


def _pin(ask: Asker, url: str, port: int, flag: str | None) -> str:
    """Seed 000 step 3.8: show the presented certificate; the admin confirms or pastes one."""
    host = urlsplit(url).hostname or ""
    expected = check_fingerprint(flag) if flag is not None else ""
    if flag is not None and not expected:
        raise click.BadParameter("must not be empty", param_hint="--fingerprint")
    if not ask.interactive and not expected:
        raise click.UsageError("--no-verify-ssl needs --fingerprint with --yes")
    try:
        info = fetch_certificate(host, port)
    except (OSError, ssl.SSLError, ValueError) as exc:
        fail(
            f"cannot read the certificate of {host}:{port}: {exc}",
            where=Where(url=url, port=port),
            case=Case.UNREACHABLE,
        )
    show_certificate(info, f"{host}:{port}")
    if not expected:
        answer = ask.text(
            "Certificate signature (SHA256 fingerprint); paste the expected one, "
            "or press Enter to trust the one shown",
            flag=None,
            option="--fingerprint",
            check=check_fingerprint,
            optional=True,
        )
        expected = answer or info.sha256
    if expected != info.sha256:
        fail(
            f"the server presents the certificate {info.fingerprint}, not "
            f"{format_fingerprint(expected)}: it may not be your Secret Server (or the "
            "certificate was renewed). Nothing was saved.",
            case=Case.TLS_MISMATCH,
        )
    click.echo(f"Pinned certificate {info.fingerprint}.")
    return info.sha256


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
        fail(exc, stage="login", where=where)
    finally:
        client.close()
    click.secho("✓ ", fg="green", nl=False)
    who = settings.client_id if settings.grant == "client_credentials" else settings.username
    click.echo(f"Connected to {settings.base_url} and logged in as {who!r}.")


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
        "Select the Thycotic field name for asset identification (case sensitive)",
        flag=flags["thycotic_field"],
        option="--thycotic-field",
        default=previous.thycotic_field,
    )
    username_field = ask.text(
        "Enter Thycotic field name for username (case sensitive)",
        flag=flags["username_field"],
        option="--username-field",
        default=previous.username_field,
    )
    password_field = ask.text(
        "Enter the Thycotic field name for the password (case sensitive)",
        flag=flags["password_field"],
        option="--password-field",
        default=previous.password_field,
    )
    privilege_field = ask.text(
        "Enter the Thycotic field name for the privilege password (optional)",
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
            privilege_password_field=privilege_field or None,
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
            return resolver.resolve(query), None
        except CredchainError as exc:
            return None, exc


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
    store: ConfigStore, table: dict[str, Any], previous: dict[str, Any], mapping: Mapping
) -> dict[str, Any]:
    """Encrypt the password (or client secret); write the mapping and config in one transaction."""
    store.ensure_home()
    final = {k: v for k, v in previous.items() if k not in _MANAGED}
    final["type"] = "thycotic"
    final.update(table)
    secret = "client_secret" if "client_secret" in table else "password"
    final[secret] = SecretStore(store.home).encrypt(table[secret])
    final["mapping_file"] = MAPPING_PATH.as_posix()
    _settings(final, store.home)  # what is written must load
    with store.transaction() as txn:
        document = store.load()
        fresh = not document
        upsert_provider(document, ENTRY, final)
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
    connection = _ask_connection(ask, flags, previous)
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
        print_problem(error, stage="lookup", where=where)
        keep = ask.interactive and click.confirm("Save this configuration anyway?", default=False)
        if not keep:
            click.echo("Nothing was saved.", err=True)
            ctx.exit(1)
        summary = f"sanity test failed: {error}"
    else:
        _show_credential(credential)
        summary = f"found {credential.detail or 'it'}, username {credential.username!r}"
    document = _save(store, connection.table, previous, mapping)
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
    click.echo(f"Status: {state}" + ("" if state == "Enabled" else " (run: credchain enable)"))
    if credential is None:
        ctx.exit(1)
