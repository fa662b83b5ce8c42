"""Wrong-shaped vault answers are ``UnexpectedAnswer`` naming what and where, never a provider bug.

Each answer is served by the dev server's ``body`` fault to a one-entry resolver. The error is a
``ProviderUnavailable`` (the chain goes on), names the answer and the place in it, and holds no
value of the answer: values can be secrets.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from thycotic_helpers import MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer, Fault
from credchain.errors import LoginRefused, UnexpectedAnswer
from credchain.testing.secrets import assert_no_secrets
from credchain_thycotic.answers import SearchAnswer, SecretAnswer, TokenAnswer, checked

WEB = AssetQuery(asset_name="web-01.corp.example.com")
SEARCH = "GET api/v1/secrets"
SECRET = "GET api/v1/secrets/{id}"
TOKEN = "oauth2/token"
PLANTED = "Planted-Pw-7c1e9f"
DEEP = "[" * 100_000 + "]" * 100_000
DAY = 24 * 3600


def serve(server: DevServer, route: str, body: str, status: int = 200) -> None:
    server.add_fault(Fault("body", route, status=status, body=body))


def search_answer(**record: object) -> str:
    return json.dumps({"records": [{"id": 100, "name": "web-01", **record}]})


def unexpected(server: DevServer, make_resolver: MakeResolver) -> UnexpectedAnswer:
    with pytest.raises(UnexpectedAnswer) as caught:
        make_resolver(server).resolve(WEB)
    error = caught.value
    assert error.trace is not None
    assert error.trace.steps[-1].outcome == "unavailable"
    assert_no_secrets(str(error) + str(error.trace), [PLANTED, server.admin.password])
    return error


@pytest.mark.parametrize(
    ("id_text", "problem"),
    [
        ('"abc"', "records[0].id is not an integer"),
        ("1.5", "records[0].id is not an integer"),
        ("true", "records[0].id is not an integer"),
        ("null", "records[0].id is not an integer"),
        ("1e400", "records[0].id is not an integer"),
        ("0", "records[0].id is out of range"),
        ("-3", "records[0].id is out of range"),
        ("1" + "0" * 30, "records[0].id is out of range"),
    ],
)
def test_a_search_record_with_a_bad_id_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver, id_text: str, problem: str
) -> None:
    serve(secret_server, SEARCH, '{"records": [{"id": ' + id_text + ', "name": "x"}]}')
    error = unexpected(secret_server, make_resolver)
    assert f"the secrets search: unexpected answer: {problem}" in str(error)


def test_a_search_record_without_an_id_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    serve(secret_server, SEARCH, '{"records": [{"name": "x"}]}')
    assert "records[0].id is missing" in str(unexpected(secret_server, make_resolver))


def test_a_search_record_that_is_not_an_object_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    serve(secret_server, SEARCH, '{"records": [1]}')
    assert "records[0] is not an object" in str(unexpected(secret_server, make_resolver))


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"name": ["x"]}, "records[0].name is not text"),
        ({"requiresComment": "yes"}, "records[0].requiresComment is not true or false"),
        ({"extendedFields": {"name": "Password"}}, "records[0].extendedFields is not a list"),
        ({"extendedFields": [PLANTED]}, "records[0].extendedFields[0] is not an object"),
        (
            {"extendedFields": [{"name": "Password", "value": {"v": PLANTED}}]},
            "records[0].extendedFields[0].value is not text",
        ),
        (
            {"extendedFields": [{"name": 7, "value": PLANTED}]},
            "records[0].extendedFields[0].name is not text",
        ),
    ],
)
def test_a_search_record_field_of_the_wrong_type_is_named_not_shown(
    secret_server: DevServer, make_resolver: MakeResolver, record: dict[str, object], problem: str
) -> None:
    serve(secret_server, SEARCH, search_answer(**record))
    assert problem in str(unexpected(secret_server, make_resolver))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="deep-list"),
        pytest.param('{"records": [{"id": 100, "x": ' + DEEP + "}]}", id="deep-in-a-record"),
        pytest.param('{"records": [{"id": 1' + "0" * 5000 + "}]}", id="5000-digit-integer"),
    ],
)
def test_json_python_cannot_hold_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver, body: str
) -> None:
    serve(secret_server, SEARCH, body)
    assert "the secrets search" in str(unexpected(secret_server, make_resolver))


def test_a_search_answer_that_is_not_an_object(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    serve(secret_server, SEARCH, "[]")
    error = unexpected(secret_server, make_resolver)
    assert "the secrets search: unexpected answer: the answer is not an object" in str(error)


def test_a_redirect_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    serve(secret_server, SEARCH, '{"records": []}', status=302)
    assert "HTTP 302" in str(unexpected(secret_server, make_resolver))


# -- the secret (GET secrets/{id}) -----------------------------------------------------------------


def serve_secret(server: DevServer, body: str) -> None:
    """A search that withholds the values (so the secret is read), then ``body`` as the secret."""
    serve(server, SEARCH, search_answer(extendedFields=[]))
    serve(server, SECRET, body)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('{"id": "abc", "items": []}', "secret 100: unexpected answer: id is not an integer"),
        ('{"id": 100, "items": "none"}', "secret 100: unexpected answer: items is not a list"),
        ('{"id": 100, "items": [5]}', "secret 100: unexpected answer: items[0] is not an object"),
        (
            '{"id": 100, "items": [{"fieldName": "Password", "itemValue": ["' + PLANTED + '"]}]}',
            "secret 100: unexpected answer: items[0].itemValue is not text",
        ),
        (
            '{"id": 100, "items": [{"slug": {"k": "' + PLANTED + '"}, "itemValue": "x"}]}',
            "secret 100: unexpected answer: items[0].slug is not text",
        ),
        ("[1]", "secret 100: unexpected answer: the answer is not an object"),
        (DEEP, "secret 100"),
    ],
)
def test_a_wrong_shaped_secret_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver, body: str, problem: str
) -> None:
    serve_secret(secret_server, body)
    assert problem in str(unexpected(secret_server, make_resolver))


def test_an_error_answer_shows_only_text_codes_and_messages(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    body = {"errorCode": {"password": PLANTED}, "message": ["the password is", PLANTED]}
    serve(secret_server, SEARCH, json.dumps(body), status=400)
    with pytest.raises(Exception) as caught:
        make_resolver(secret_server).resolve(WEB)
    assert "HTTP 400" in str(caught.value)
    assert_no_secrets(str(caught.value), [PLANTED])


def test_a_refused_token_answer_that_is_deeply_nested(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    serve(secret_server, SEARCH, DEEP, status=403)
    unexpected(secret_server, make_resolver)


# -- the token endpoint ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('{"access_token": "t", "expires_in": 1e400}', "expires_in is not a finite number"),
        ('{"access_token": "t", "expires_in": NaN}', "expires_in is not a finite number"),
        ('{"access_token": "t", "expires_in": -5}', "expires_in is out of range"),
        ('{"access_token": "t", "expires_in": "1200"}', "expires_in is not a number"),
        ('{"access_token": "t", "expires_in": true}', "expires_in is not a number"),
        ('{"access_token": "t", "expires_in": 1' + "0" * 400 + "}", "expires_in is not a number"),
        ('{"access_token": 5}', "access_token is not text"),
        ('{"access_token": ""}', "access_token is empty"),
        ('{"token_type": "bearer"}', "access_token is missing"),
        (
            '{"access_token": "t", "refresh_token": ["' + PLANTED + '"]}',
            "refresh_token is not text",
        ),
        ("[1]", "the answer is not an object"),
        (DEEP, "token endpoint"),
        ('{"access_token": "t\\r\\nX-Injected: 1"}', "access_token is not a token"),
        ('{"access_token": "a b"}', "access_token is not a token"),
        ('{"access_token": "\\ud800"}', "access_token is not valid text"),
        ('{"access_token": "\u00e9t\u00e9"}', "access_token is not a token"),
        ('{"access_token": "' + "t" * 20_000 + '"}', "access_token is too long"),
        ('{"access_token": "t", "refresh_token": "t\\u0000"}', "refresh_token is not a token"),
    ],
)
def test_a_wrong_shaped_token_answer_is_an_unexpected_answer(
    secret_server: DevServer, make_resolver: MakeResolver, body: str, problem: str
) -> None:
    serve(secret_server, TOKEN, body)
    error = unexpected(secret_server, make_resolver)
    assert "the token endpoint" in str(error) and problem in str(error)


def test_a_refused_login_shows_only_a_short_text_error(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    serve(secret_server, TOKEN, json.dumps({"error": {"detail": PLANTED}}), status=400)
    with pytest.raises(LoginRefused) as caught:
        make_resolver(secret_server).resolve(WEB)
    assert_no_secrets(str(caught.value), [PLANTED])
    secret_server.clear_faults()
    serve(secret_server, TOKEN, json.dumps({"error": "x" * 5000}), status=400)
    with pytest.raises(LoginRefused) as caught:
        make_resolver(secret_server).resolve(WEB)
    assert len(str(caught.value)) < 400


def test_a_token_lifetime_beyond_a_day_is_cut_to_a_day(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    grant = requests.post(
        f"{secret_server.url}/oauth2/token",
        data={
            "grant_type": "password",
            "username": secret_server.admin.username,
            "password": secret_server.admin.password,
        },
        verify=secret_server.ca_cert,
        timeout=10,
    ).json()
    body = {"access_token": grant["access_token"], "token_type": "bearer", "expires_in": 1e300}
    secret_server.add_fault(Fault("body", TOKEN, count=1, body=json.dumps(body)))
    resolver = make_resolver(secret_server)
    assert resolver.resolve(WEB).username == "svc-scan"
    provider = resolver.chain[0].provider
    token = provider.client.account.tokens.current
    assert token is not None
    assert token.expires_at <= time.time() + DAY


# -- the shapes alone: any JSON value is an answer or an UnexpectedAnswer that shows no value ------

LEAF = "Leaf-Value-9q"
KEYS = st.sampled_from(
    [
        "records",
        "id",
        "name",
        "extendedFields",
        "value",
        "items",
        "itemValue",
        "fieldName",
        "slug",
        "requiresComment",
        "access_token",
        "expires_in",
        "refresh_token",
    ]
)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.just(LEAF)
    | st.sampled_from([LEAF + " x", "\ud800" + LEAF]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)


@pytest.mark.parametrize("shape", [SearchAnswer, SecretAnswer, TokenAnswer])
@given(value=VALUES)
def test_any_json_is_an_answer_or_an_unexpected_answer_without_its_values(
    shape: type[SearchAnswer | SecretAnswer | TokenAnswer], value: object
) -> None:
    message = "the answer: unexpected answer: (none)"
    try:
        checked(shape, value, "the answer")
    except UnexpectedAnswer as exc:
        message = str(exc)
    assert message.startswith("the answer: unexpected answer: ")
    assert LEAF not in message
