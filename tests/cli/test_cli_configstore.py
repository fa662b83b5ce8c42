"""``credchain.configstore`` and ``credchain.cli.guidance``: the pieces the admin commands share."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from credchain.cli.guidance import Case, Where, advise, classify
from credchain.configstore import ConfigStore, LastTest, upsert_provider
from credchain.errors import (
    AccessDenied,
    ChainDisabled,
    ConfigError,
    CredentialNotFound,
    FieldMissing,
    LoginRefused,
    ProviderError,
    ProviderUnavailable,
    ScriptError,
    TLSVerificationError,
    UnexpectedAnswer,
    WrongEndpoint,
)


def test_update_keeps_every_other_setting(tmp_path: Path) -> None:
    path = tmp_path / "home" / "credchain.toml"
    store = ConfigStore(path, path.parent)
    store.save({"chain": ["a"], "providers": {"a": {"type": "x", "nested": {"k": 1}}}})
    store.set_enabled(False)
    assert tomllib.loads(path.read_text()) == {
        "chain": ["a"],
        "providers": {"a": {"type": "x", "nested": {"k": 1}}},
        "enabled": False,
    }
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_upsert_puts_a_new_entry_first_and_never_twice() -> None:
    doc: dict[str, object] = {"chain": ["dr"]}
    upsert_provider(doc, "thycotic", {"url": "u"})
    upsert_provider(doc, "thycotic", {"url": "v"})
    assert doc == {"chain": ["thycotic", "dr"], "providers": {"thycotic": {"url": "v"}}}


def test_an_error_inside_a_transaction_writes_nothing(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "credchain.toml", tmp_path)
    store.save({"chain": ["a"]})

    def interrupted() -> None:
        with store.transaction() as txn:
            store.stage_config(txn, {"chain": ["b"]})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        interrupted()
    assert tomllib.loads(store.path.read_text()) == {"chain": ["a"]}
    assert list(tmp_path.glob(".*.tmp")) == []


def test_unreadable_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "credchain.toml").write_text("chain = [")
    with pytest.raises(ConfigError, match=r"credchain\.toml"):
        ConfigStore(tmp_path / "credchain.toml", tmp_path).load()


def test_a_failed_test_keeps_the_known_good_query() -> None:
    good = LastTest.now(ok=True, summary="", entry=None, query={"asset_name": "a"})
    bad = LastTest.now(ok=False, summary="", entry=None, query={"asset_name": "b"}, previous=good)
    assert bad.known_good == {"asset_name": "a"} and bad.query == {"asset_name": "b"}


@pytest.mark.parametrize(
    ("error", "stage", "case"),
    [
        (ProviderUnavailable("cannot reach https://v:1: refused"), "login", Case.UNREACHABLE),
        (UnexpectedAnswer("x: expected JSON, got an HTML page"), "login", Case.WRONG_ENDPOINT),
        (TLSVerificationError("untrusted", presented="ab" * 32), "login", Case.TLS_UNTRUSTED),
        (TLSVerificationError("x", expected="cd" * 32), "login", Case.TLS_MISMATCH),
        (LoginRefused("whatever it says"), None, Case.LOGIN_REFUSED),
        (WrongEndpoint("whatever it says"), None, Case.WRONG_ENDPOINT),
        (FieldMissing("whatever it says"), "lookup", Case.FIELD_NAME),
        (AccessDenied("whatever it says"), "lookup", Case.ACCESS_DENIED),
        (ProviderError("refused the login, access denied, has no field"), None, Case.OTHER),
        (ProviderError("a plain provider error while logging in"), "login", Case.LOGIN_REFUSED),
        (CredentialNotFound("no credential"), "lookup", Case.NO_DATA),
        (ScriptError("invalid script"), None, Case.SCRIPT),
        (ChainDisabled("disabled"), None, Case.DISABLED),
        (ProviderError("something else"), "lookup", Case.OTHER),
    ],
)
def test_each_error_maps_to_its_faq_case(error: Exception, stage: str | None, case: Case) -> None:
    assert classify(error, stage) is case  # type: ignore[arg-type]


def test_advice_points_at_the_url_port_and_mapping_file() -> None:
    where = Where(url="https://v", port=8443, mapping_file=Path("/h/m.json"), search="F = 'x'")
    assert "https://v at port 8443" in advise(Case.UNREACHABLE, None, where)[0]
    assert "/h/m.json" in advise(Case.FIELD_NAME, None, where)[0]
    assert "credchain test ENTRY" in advise(Case.NO_DATA, None, where)[0]
    tls = advise(Case.TLS_UNTRUSTED, TLSVerificationError("x", presented="ab" * 32), where)
    assert "AB:AB:" in tls[0]
