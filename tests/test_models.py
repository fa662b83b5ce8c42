"""AssetQuery and SafeCredential: the scanner's two contracts."""

from __future__ import annotations

import base64
import contextlib
import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from credchain import AssetQuery, SafeCredential
from credchain.errors import CredentialFormatError, QueryError
from credchain.models import decode_base64

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80
)
query_values = st.one_of(
    st.none(),
    st.text(alphabet=string.ascii_letters + string.digits + ".-_:", min_size=1, max_size=60),
)


def test_query_data_has_exactly_the_three_safe_keys() -> None:
    query = AssetQuery(asset_name="web-01", domain="CORP")
    assert query.to_query_data() == {"asset_name": "web-01", "ip_address": None, "cmdb_id": None}


def test_query_accepts_positional_arguments_in_safe_order() -> None:
    assert AssetQuery("web-01", "10.0.0.1", "CMDB-1") == AssetQuery(
        asset_name="web-01", ip_address="10.0.0.1", cmdb_id="CMDB-1"
    )


def test_query_needs_one_key_at_least() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        AssetQuery(domain="CORP")


def test_query_treats_blank_values_as_missing() -> None:
    assert AssetQuery(asset_name="  ", ip_address=" 10.0.0.1 ").to_query_data() == {
        "asset_name": None,
        "ip_address": "10.0.0.1",
        "cmdb_id": None,
    }


def test_query_is_immutable() -> None:
    query = AssetQuery(asset_name="web-01")
    with pytest.raises(ValidationError):
        query.asset_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"asset_name": 5}, "asset_name"),
        ({"ip_address": "10.0.0.1\nrm"}, "ip_address"),
        ({"cmdb_id": "a\x00b"}, "cmdb_id"),
        ({"asset_name": "x" * 2000}, "asset_name"),
        ({"hostname": "web"}, "hostname"),
        ({}, None),
    ],
)
def test_query_data_errors_name_the_key(data: dict[str, object], key: str | None) -> None:
    with pytest.raises(QueryError) as caught:
        AssetQuery.from_query_data(data)
    if key is not None:
        assert caught.value.key == key
        assert key in str(caught.value)


def test_query_from_non_object_is_an_error() -> None:
    with pytest.raises(QueryError, match="JSON object"):
        AssetQuery.from_query_data(["web"])  # type: ignore[arg-type]


@given(asset_name=query_values, ip_address=query_values, cmdb_id=query_values)
def test_query_valid_exactly_when_a_key_is_present(
    asset_name: str | None, ip_address: str | None, cmdb_id: str | None
) -> None:
    data = {"asset_name": asset_name, "ip_address": ip_address, "cmdb_id": cmdb_id}
    if asset_name or ip_address or cmdb_id:
        query = AssetQuery.from_query_data(data)
        assert query.to_query_data() == data
        assert AssetQuery.from_query_data(query.to_query_data()) == query
    else:
        with pytest.raises(QueryError):
            AssetQuery.from_query_data(data)


@given(st.dictionaries(st.sampled_from(["asset_name", "ip_address", "cmdb_id", "domain"]), texts))
def test_query_validation_never_raises_anything_but_query_error(data: dict[str, str]) -> None:
    try:
        query = AssetQuery.from_query_data(data)
    except QueryError:
        return
    assert set(query.to_query_data()) == {"asset_name", "ip_address", "cmdb_id"}


def test_safe_dict_is_standard_base64_without_newline() -> None:
    credential = SafeCredential(
        username="svc-scan", password=SecretStr("p" * 100), privilege_password=SecretStr("root!")
    )
    safe = credential.to_safe_dict()
    assert safe == {
        "username": "svc-scan",
        "password": base64.b64encode(b"p" * 100).decode(),
        "privilegePassword": base64.b64encode(b"root!").decode(),
    }
    assert "\n" not in safe["password"]


def test_safe_dict_has_no_privilege_key_when_there_is_none() -> None:
    safe = SafeCredential(username="u", password=SecretStr("p")).to_safe_dict()
    assert list(safe) == ["username", "password"]


def test_encodestring_style_values_are_accepted() -> None:
    long_password = "correct horse battery staple " * 5
    data = {
        "username": "svc",
        "password": base64.encodebytes(long_password.encode()).decode(),
        "privilegePassword": base64.encodebytes(b"enable").decode(),
    }
    assert "\n" in data["password"][:-1]
    credential = SafeCredential.from_safe_dict(data)
    assert credential.password.get_secret_value() == long_password
    assert (
        credential.to_safe_dict()["password"] == base64.b64encode(long_password.encode()).decode()
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"username": "u", "password": "not base64!"}, "password"),
        ({"username": "u", "password": "cGFzcw"}, "password"),
        (
            {"username": "u", "password": "cGFzcw==", "privilegePassword": "%%%"},
            "privilegePassword",
        ),
        ({"username": "u", "password": base64.b64encode(b"\xff\xfe").decode()}, "password"),
        ({"username": "u", "password": 12}, "password"),
        ({"username": "", "password": "cGFzcw=="}, "username"),
        ({"password": "cGFzcw=="}, "username"),
        ({"username": "u"}, "password"),
        ({"username": "u", "password": "cGFzcw==", "extra": 1}, "extra"),
    ],
)
def test_invalid_safe_dicts_name_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(CredentialFormatError) as caught:
        SafeCredential.from_safe_dict(data)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_empty_privilege_password_means_none() -> None:
    credential = SafeCredential.from_safe_dict(
        {"username": "u", "password": "cA==", "privilegePassword": ""}
    )
    assert credential.privilege_password is None


@given(
    username=texts.filter(bool), password=texts, privilege=st.one_of(st.none(), texts.filter(bool))
)
def test_safe_dict_round_trip(username: str, password: str, privilege: str | None) -> None:
    credential = SafeCredential(
        username=username,
        password=SecretStr(password),
        privilege_password=None if privilege is None else SecretStr(privilege),
    )
    assert SafeCredential.from_safe_dict(credential.to_safe_dict()) == credential


@given(password=texts)
def test_encodestring_round_trip(password: str) -> None:
    encoded = base64.encodebytes(password.encode()).decode()
    assert decode_base64(encoded, "password") == password


@given(st.text(max_size=40))
def test_decoding_arbitrary_text_raises_only_format_errors(value: str) -> None:
    with contextlib.suppress(CredentialFormatError):
        decode_base64(value, "password")


def test_repr_str_and_json_never_show_passwords() -> None:
    credential = SafeCredential(
        username="svc",
        password=SecretStr("hunter2-planted"),
        privilege_password=SecretStr("en-planted"),
    )
    shown = " ".join(
        [
            repr(credential),
            str(credential),
            credential.model_dump_json(),
            json.dumps(credential.model_dump(mode="json")),
        ]
    )
    assert "hunter2-planted" not in shown
    assert "en-planted" not in shown


def test_format_errors_never_repeat_the_value() -> None:
    with pytest.raises(CredentialFormatError) as caught:
        SafeCredential.from_safe_dict({"username": "u", "password": "planted-secret!"})
    assert "planted-secret" not in str(caught.value)
