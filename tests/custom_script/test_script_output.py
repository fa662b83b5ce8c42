"""The script's output: a SAFE dict (encodestring style accepted), None or NotFound, or an error."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.errors import ScriptError
from credchain.provider import ProviderContext
from credchain.testing.providers import StaticProvider
from credchain.testing.secrets import assert_no_secrets
from credchain_custom_script import SCRIPT_NAME, CustomScriptProvider, CustomScriptSettings

PLANTED = "planted-Pw-7e1d"
PRIVILEGED = "planted-Root-55aa"
WEB = AssetQuery(asset_name="web-01", ip_address="10.0.0.5")


def install(home: Path, body: str, name: str = SCRIPT_NAME) -> Path:
    directory = home / "integrations" / "custom" / "thycotic"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def provider(home: Path) -> Iterator[CustomScriptProvider]:
    settings = CustomScriptSettings(workers=1, timeout=5)
    provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
    yield provider
    provider.close()


def resolve(provider: CustomScriptProvider, query: AssetQuery = WEB):
    return Resolver([ChainEntry("script", provider, type="custom-script")]).resolve(query)


def returning(expression: str) -> str:
    return f"""
        import base64

        def get_password_from_thycotic(query_data):
            return {expression}
    """


def test_a_safe_dict_is_the_credential(home, provider) -> None:
    install(
        home,
        returning(
            f'{{"username": "svc", "password": base64.b64encode(b"{PLANTED}").decode(), '
            f'"privilegePassword": base64.b64encode(b"{PRIVILEGED}").decode()}}'
        ),
    )
    credential = resolve(provider)
    assert credential.username == "svc"
    assert credential.password.get_secret_value() == PLANTED
    assert credential.privilege_password is not None
    assert credential.privilege_password.get_secret_value() == PRIVILEGED
    assert credential.source == "script"
    assert_no_secrets(repr(credential), [PLANTED, PRIVILEGED])


def test_safes_own_template_with_encodestring_runs_and_is_accepted(home, provider) -> None:
    long_password = PLANTED * 10  # over 76 characters of base64: encodestring breaks the line
    install(
        home,
        f"""
        import base64

        def get_password_from_thycotic(query_data):
            return {{
                "username": "svc",
                "password": base64.encodestring("{long_password}".encode()).decode(),
                "privilegePassword": base64.encodestring("{PRIVILEGED}".encode()).decode(),
            }}
        """,
    )
    credential = resolve(provider)
    assert credential.password.get_secret_value() == long_password
    assert credential.to_safe_dict()["password"].count("\n") == 0


def test_the_script_gets_exactly_safes_query_data(home, provider) -> None:
    install(
        home,
        returning('{"username": repr(sorted(query_data.items())), "password": "cHc="}'),
    )
    credential = resolve(provider, AssetQuery(asset_name="web-01", cmdb_id="C1", domain="corp"))
    assert credential.username == repr(
        [("asset_name", "web-01"), ("cmdb_id", "C1"), ("ip_address", None)]
    )


def test_privilege_password_is_optional(home, provider) -> None:
    install(home, returning('{"username": "svc", "password": "cHc="}'))
    credential = resolve(provider)
    assert credential.privilege_password is None
    assert "privilegePassword" not in credential.to_safe_dict()


@pytest.mark.parametrize(
    "body",
    [
        returning("None"),
        """
        from credchain_custom_script import NotFound

        def get_password_from_thycotic(query_data):
            raise NotFound(query_data["asset_name"])
        """,
        """
        class NotFound(Exception):
            pass

        def get_password_from_thycotic(query_data):
            raise NotFound
        """,
        """
        class NotFound(LookupError):
            pass

        class NoSuchAsset(NotFound):
            pass

        def get_password_from_thycotic(query_data):
            raise NoSuchAsset
        """,
    ],
    ids=["none", "credchain-notfound", "own-notfound", "subclass-of-notfound"],
)
def test_not_found_lets_the_chain_go_on(home, provider, body) -> None:
    install(home, body)
    later = StaticProvider.of({"web-01": {"username": "later", "password": "x"}})
    chain = [ChainEntry("script", provider, type="custom-script"), ChainEntry("later", later)]
    resolver = Resolver(chain)
    assert resolver.resolve(WEB).source == "later"
    steps = resolver.explain(WEB).steps
    assert (steps[0].outcome, steps[0].reason) == (
        "not_found",
        f"not here (script {SCRIPT_NAME} answered not here)",
    )


@pytest.mark.parametrize(
    ("expression", "key", "why"),
    [
        ('{"password": "cHc="}', "username", "non-empty text"),
        ('{"username": "", "password": "cHc="}', "username", "non-empty text"),
        ('{"username": 7, "password": "cHc="}', "username", "non-empty text"),
        ('{"username": "svc"}', "password", "missing"),
        (f'{{"username": "svc", "password": "{PLANTED}!"}}', "password", "not valid base64"),
        (f'{{"username": "svc", "password": b"{PLANTED}"}}', "password", "must be text, not bytes"),
        (
            f'{{"username": "svc", "password": "cHc=", "privilegePassword": "{PLANTED}%"}}',
            "privilegePassword",
            "not valid base64",
        ),
        ('{"username": "svc", "password": "cHc=", "domain": "corp"}', "domain", "unknown key"),
        ('{"username": "svc", "password": ["cHc="]}', "password", "must be text, not list"),
    ],
    ids=[
        "no-username",
        "empty-username",
        "numeric-username",
        "no-password",
        "password-not-base64",
        "password-bytes",
        "privilege-not-base64",
        "unknown-key",
        "password-list",
    ],
)
def test_invalid_output_names_the_script_and_the_key(
    home, provider, caplog, expression, key, why
) -> None:
    path = install(home, returning(expression))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ScriptError) as caught:
        resolve(provider)
    message = str(caught.value)
    assert message.startswith(f"script: invalid script output from {path}: ")
    assert repr(key) in message and why in message
    assert caught.value.trace is not None
    assert_no_secrets(message + str(caught.value.trace) + caplog.text, [PLANTED])


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ('"svc:cGFzcw=="', "it must return a dict, not str"),
        ('("svc", "cHc=")', "it must return a dict, not tuple"),
        ('{1: "svc"}', "the dict's keys must be text, not int"),
    ],
)
def test_output_that_is_not_a_dict_is_invalid(home, provider, expression, why) -> None:
    path = install(home, returning(expression))
    with pytest.raises(ScriptError, match=f"invalid script output from {path}: {why}"):
        resolve(provider)


def test_an_exception_is_reported_by_type_and_line_never_by_message(home, provider, caplog) -> None:
    path = install(
        home,
        f"""
        def helper(secret):
            raise RuntimeError("vault said no for " + secret)

        def get_password_from_thycotic(query_data):
            helper("{PLANTED}")
        """,
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ScriptError) as caught:
        resolve(provider)
    message = str(caught.value)
    assert (
        message
        == f"script: script {path} raised RuntimeError at line 3 (its message is not shown; "
        "credchain --debug shows it and its traceback)"
    )
    assert_no_secrets(message + str(caught.value.trace) + caplog.text, [PLANTED])


def test_noise_on_stdout_and_stderr_is_discarded_not_mixed_in(home, provider, capfd) -> None:
    install(
        home,
        f"""
        import os, sys
        print("{PLANTED}")
        def get_password_from_thycotic(query_data):
            print("{PLANTED}" * 1000)
            sys.stdout.flush()
            os.write(1, b"\\x00\\x00\\x00\\x05junk")
            print("{PLANTED}", file=sys.stderr)
            return {{"username": "svc", "password": "cHc="}}
        """,
    )
    assert resolve(provider).username == "svc"
    assert resolve(provider).username == "svc"
    captured = capfd.readouterr()
    assert_no_secrets(captured.out + captured.err, [PLANTED])
