"""The leak scan's plant and its scanner.

Canaries are planted everywhere a secret lives: the dev server's admin and user passwords, a
client secret, every asset password and privilege password, the tokens the server grants, a
wrong password, the home's key file, and the passwords and exception messages of a custom
script. Each is random per run, so none is in a source file a traceback could quote (the
script, which holds some, lives outside the home).

``scan(where, text, planted)`` fails naming the capture and the canary, never the value, and
counts what it scanned in ``SCANNED``.
"""

from __future__ import annotations

import json
import secrets
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w
from click.testing import CliRunner

from credchain.cli import main
from credchain.devserver import Dataset, DevServer, FileValue, SecretSpec, UserSpec, demo_dataset
from credchain.devserver.datafile import AdminSpec, ClientCredential
from credchain.home import KEY_FILE
from credchain.models import encode_base64
from credchain.secretstore import SecretStore
from credchain.testing.secrets import assert_no_secrets

#: captures scanned, by kind (stdout, stderr, log, trace, file, repr...)
SCANNED: Counter[str] = Counter()


def canary(label: str) -> str:
    """A random secret value; ``-`` keeps it from being valid base64."""
    return f"Cnry-{label}-{secrets.token_hex(6)}"


SCAN_TEMPLATE = 6100  # the dev server's "Scan Account": password and privilege password
AD_TEMPLATE = 6001  # "Active Directory Account": domain, username, password
ENV_VAR = "CREDCHAIN_LEAK_VAULT_PW"
CLIENT_ID = "leak-client"

VAULT_ASSET = "leak-vault-01.corp.example.com"  # only the admin sees it
CLIENT_ASSET = "leak-client-01.corp.example.com"  # the client's user sees it
ENV_ASSET = "leak-env-01.corp.example.com"  # svc-env (password from the environment) sees it
DOMAIN_ASSET = "leak-host-01.leakdom.example.com"  # the domain fallback answers it
SCRIPT_ASSET = "leak-script-01"  # the custom script answers it
SCRIPT_RAISES = "leak-script-raise"  # the script raises, a canary in the message
SCRIPT_GARBAGE = "leak-script-garbage"  # the script returns a password that is not base64
SCRIPT_NO_USERNAME = "leak-script-nousername"  # the script returns no username
SCRIPT_ENV = "leak-script-env"  # the script writes its worker's environment to a file
MISSING = "leak-missing-01.corp.example.com"  # nobody has it
VAULT_ASSETS = {VAULT_ASSET: (), CLIENT_ASSET: ("svc-client",), ENV_ASSET: ("svc-env",)}

#: canary name -> value, for the values that do not change during a run
PLANTED: dict[str, str] = {
    "admin password": canary("admin"),
    "client user's password": canary("clientuser"),
    "client secret": canary("clientsecret"),
    "environment vault password": canary("envpw"),
    "wrong vault password": canary("wrong"),
    "domain account's password": canary("domainpw"),
    "script password": canary("scriptpw"),
    "script privilege password": canary("scriptpriv"),
    "script's password that is not base64": canary("scriptgarbage"),
    "script exception message": canary("scriptraise"),
    "script load exception message": canary("scriptload"),
}
#: asset -> (password, privilege password)
ASSET_CREDENTIALS = {asset: (canary("pw"), canary("priv")) for asset in VAULT_ASSETS}
for _asset, (_password, _privilege) in ASSET_CREDENTIALS.items():
    PLANTED[f"password of {_asset}"] = _password
    PLANTED[f"privilege password of {_asset}"] = _privilege
SCRIPT_CREDENTIAL = (PLANTED["script password"], PLANTED["script privilege password"])
SCRIPT_NOT_BASE64 = PLANTED["script's password that is not base64"]


def credential_canaries(asset: str) -> tuple[str, ...]:
    """The canaries that are the answer for ``asset``: allowed where the answer is."""
    if asset == SCRIPT_ASSET:
        return SCRIPT_CREDENTIAL
    if asset == DOMAIN_ASSET:
        return (PLANTED["domain account's password"],)
    return ASSET_CREDENTIALS.get(asset, ())


def dataset() -> Dataset:
    """The dev server's data: canary passwords for every user, client and secret."""
    return Dataset(
        admin=AdminSpec(username="admin", password=PLANTED["admin password"]),
        users=[
            UserSpec(
                username="svc-client",
                password=PLANTED["client user's password"],
                clients=[
                    ClientCredential(client_id=CLIENT_ID, client_secret=PLANTED["client secret"])
                ],
            ),
            UserSpec(username="svc-env", password=PLANTED["environment vault password"]),
        ],
        secrets=[
            SecretSpec(
                name=asset,
                template_id=SCAN_TEMPLATE,
                items={
                    "machine": asset,
                    "username": "svc-scan",
                    "password": ASSET_CREDENTIALS[asset][0],
                    "privilege-password": ASSET_CREDENTIALS[asset][1],
                },
                permissions=list(users),
            )
            for asset, users in VAULT_ASSETS.items()
        ]
        + [
            SecretSpec(
                name="LEAKDOM svc-dom",
                template_id=AD_TEMPLATE,
                items={
                    "domain": "LEAKDOM",
                    "username": "svc-dom",
                    "password": PLANTED["domain account's password"],
                },
            )
        ],
    )


class TokenLog:
    """Every access and refresh token a dev server grants: canaries too."""

    def __init__(self, server: DevServer) -> None:
        self.values: list[str] = []
        issue = server.tokens.issue

        def recording(user):
            grant = issue(user)
            self.values += [grant.access_token, *filter(None, [grant.refresh_token])]
            return grant

        server.tokens.issue = recording


#: the key files of the homes made so far (canaries everywhere but in themselves)
KEYS: list[str] = []


def script_text(env_dump: Path) -> str:
    """The custom script: canary credentials, and the ways a script misbehaves."""
    return f"""\
import base64
import json
import os


def b64(text):
    return base64.b64encode(text.encode()).decode()


def get_password_from_thycotic(query_data):
    asset = query_data.get("asset_name") or ""
    if asset == {SCRIPT_ASSET!r}:
        return {{
            "username": "svc-script",
            "password": b64({SCRIPT_CREDENTIAL[0]!r}),
            "privilegePassword": b64({SCRIPT_CREDENTIAL[1]!r}),
        }}
    if asset == {SCRIPT_RAISES!r}:
        raise ValueError({PLANTED["script exception message"]!r})
    if asset == {SCRIPT_GARBAGE!r}:
        return {{"username": "svc-script", "password": {SCRIPT_NOT_BASE64!r}}}
    if asset == {SCRIPT_NO_USERNAME!r}:
        return {{"password": b64({SCRIPT_CREDENTIAL[0]!r})}}
    if asset == {SCRIPT_ENV!r}:
        with open({str(env_dump)!r}, "w") as out:
            json.dump(dict(os.environ), out)
        return None
    return None
"""


BROKEN_SCRIPT = f"raise RuntimeError({PLANTED['script load exception message']!r})\n"


@dataclass
class Plant:
    """The dev server, its tokens, and the directory of the scripts (outside every home)."""

    server: DevServer
    tokens: TokenLog
    scripts: Path

    @property
    def env_dump(self) -> Path:
        return self.scripts / "worker-environ.json"

    def planted(self, *, allowed: Iterable[str] = ()) -> dict[str, str]:
        """Every canary known now (tokens granted so far, keys made so far), less ``allowed``."""
        found = dict(PLANTED)
        found.update({f"token {i}": token for i, token in enumerate(self.tokens.values)})
        found.update({f"key file {i}": key for i, key in enumerate(KEYS)})
        drop = set(allowed)
        return {name: value for name, value in found.items() if value not in drop}


def write_home(
    home: Path, plant: Plant, *, vault_password: str | None = None, script: str = "leak.py"
) -> Path:
    """A home whose config is encrypted: chain client -> envuser -> vault -> domain -> script."""
    store = SecretStore(home)
    server = plant.server
    connection = server.thycotic_table(
        username=None,
        password=None,
        retries=1,
        read_timeout=5.0,
        mapping={"privilege_password_field": "Privilege Password"},
    )
    password = vault_password or PLANTED["admin password"]
    document = {
        "enabled": True,
        "chain": ["client", "envuser", "vault", "domain", "script"],
        "providers": {
            "client": {
                "type": "thycotic",
                **connection,
                "grant": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": store.encrypt(PLANTED["client secret"]),
            },
            "envuser": {
                "type": "thycotic",
                **connection,
                "username": "svc-env",
                "password_env": ENV_VAR,
            },
            "vault": {
                "type": "thycotic",
                **connection,
                "username": "admin",
                "password": store.encrypt(password),
            },
            "domain": {
                "type": "domain-fallback",
                "connection": "vault",
                "domains": ["LEAKDOM"],
                "username": "svc-dom",
            },
            "script": {
                "type": "custom-script",
                "script": str(plant.scripts / script),
                "timeout": 10,
                "workers": 1,
            },
        },
    }
    path = home / "credchain.toml"
    path.write_text(tomli_w.dumps(document))
    path.chmod(0o600)
    KEYS.append((home / KEY_FILE).read_text().strip())
    return path


def write_scripts(directory: Path, env_dump: Path) -> None:
    directory.mkdir(mode=0o700, exist_ok=True)
    for name, text in (("leak.py", script_text(env_dump)), ("broken.py", BROKEN_SCRIPT)):
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)


def demo_canaries() -> dict[str, str]:
    """The secrets of the demo's data (its server's admin password and tokens come apart)."""
    data = demo_dataset()
    found = {f"demo user {u.username}'s password": u.password for u in data.users}
    found.update(
        {f"demo client {c.client_id}": c.client_secret for u in data.users for c in u.clients}
    )
    for spec in data.secrets:
        for key, value in spec.items.items():
            if isinstance(value, FileValue):
                found[f"file {key} of {spec.name}"] = value.content
            elif "password" in key or "passphrase" in key:
                found[f"{key} of {spec.name}"] = value
    found["demo script password"] = "plc-demo-pw"
    return found


def scan(where: str, text: str, planted: Mapping[str, str]) -> None:
    """Fail, naming the capture and the canary (never its value), if one is in ``text``."""
    SCANNED[where.split(" ", 1)[0]] += 1
    for name, value in planted.items():
        try:
            assert_no_secrets(text, [value])
        except AssertionError:
            raise AssertionError(f"the {name} leaked into {where}") from None


def scan_files(root: Path, plant: Plant, what: str = "file") -> int:
    """Scan every file under ``root``; a key file may hold itself. Returns how many."""
    count = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        own = (text.strip(),) if path.name == KEY_FILE else ()
        scan(
            f"{what} {path.relative_to(root)}", path.name + "\n" + text, plant.planted(allowed=own)
        )
        count += 1
    return count


@dataclass
class Run:
    """What one in-process ``credchain`` run showed."""

    args: list[str]
    code: int
    stdout: str
    stderr: str
    trace: str
    logs: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "credchain " + " ".join(self.args)


def invoke(args: list[str], *, stdin: str | None = None) -> Run:
    """``credchain ARGS`` in-process; an exception's text, repr and traceback are kept."""
    result = CliRunner().invoke(main, args, input=stdin)
    trace = ""
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        exc = result.exc_info[1]
        trace = "".join(traceback.format_exception(*result.exc_info)) + f"\n{exc!s}\n{exc!r}"
    return Run(args, result.exit_code, result.stdout, result.stderr, trace)


def safe_json(asset: str) -> dict[str, str]:
    """The SAFE dict ``credchain resolve --json`` prints for ``asset``."""
    values = credential_canaries(asset)
    usernames = {SCRIPT_ASSET: "svc-script", DOMAIN_ASSET: "LEAKDOM\\svc-dom"}
    safe = {"username": usernames.get(asset, "svc-scan"), "password": encode_base64(values[0])}
    if len(values) > 1:
        safe["privilegePassword"] = encode_base64(values[1])
    return safe


def inventory_lines(assets: Iterable[str]) -> str:
    return "".join(json.dumps({"asset_name": asset}) + "\n" for asset in assets)
