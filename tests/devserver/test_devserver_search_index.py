"""The dev server's indexed search answers exactly what a scan of every secret answers."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from credchain.devserver import Dataset, SecretSpec
from credchain.devserver.store import SearchFilter, SecretRecord, Store, User, _haystack, _matches
from credchain.textindex import TextIndex

#: few letters, mixed case, and ones whose casefold changes length: collisions and substrings
TEXT = st.text(alphabet="abAßsİ", max_size=7)
TEMPLATES = st.sampled_from([2, 6001, 6003, 6007, 6100])
FIELDS = st.sampled_from(
    ["", "username", "Username", "machine", "Machine", "domain", "notes", "password", "nope"]
)


def _scan(store: Store, user: User, query: SearchFilter) -> list[SecretRecord]:
    """The search as it was before the index: every secret, each filter checked."""
    text = query.search_text.casefold()
    found = [
        secret
        for secret in store.secrets.values()
        if store.can_view(user, secret)
        and (secret.active or query.include_inactive)
        and (query.template_id is None or secret.template.id == query.template_id)
        and (not text or _matches(_haystack(secret, query.search_field), text, query))
    ]
    found.sort(key=lambda s: (s.name.casefold(), s.id))
    return found


@st.composite
def _specs(draw: st.DrawFn) -> SecretSpec:
    return SecretSpec(
        name=draw(TEXT),
        template_id=draw(TEMPLATES),
        items={slug: draw(TEXT) for slug in ("username", "machine", "domain", "notes", "password")},
        active=draw(st.booleans()),
        permissions=draw(st.sampled_from([[], ["scanner"]])),
    )


@st.composite
def _filters(draw: st.DrawFn) -> SearchFilter:
    return SearchFilter(
        search_text=draw(TEXT),
        search_field=draw(FIELDS),
        is_exact_match=draw(st.booleans()),
        template_id=draw(st.sampled_from([None, 2, 6003])),
        include_inactive=draw(st.booleans()),
    )


def _store(specs: list[SecretSpec]) -> Store:
    dataset = Dataset.model_validate(
        {"users": [{"username": "scanner", "password": "pw"}], "secrets": []}
    )
    store = Store(dataset, "admin-pw", time.time)
    for spec in specs:
        store.add_secret(spec)
    return store


@settings(max_examples=150, deadline=None)
@given(specs=st.lists(_specs(), max_size=25), queries=st.lists(_filters(), min_size=1, max_size=8))
def test_indexed_search_equals_the_scan(
    specs: list[SecretSpec], queries: list[SearchFilter]
) -> None:
    store = _store(specs)
    for user in store.users:
        for query in queries:
            assert store.search(user, query) == _scan(store, user, query)


@settings(max_examples=60, deadline=None)
@given(
    specs=st.lists(_specs(), min_size=1, max_size=12),
    renames=st.lists(st.tuples(st.integers(0, 11), TEXT, TEXT), max_size=6),
    added=st.lists(_specs(), max_size=4),
    queries=st.lists(_filters(), min_size=1, max_size=6),
)
def test_the_index_follows_added_changed_and_replaced_secrets(
    specs: list[SecretSpec],
    renames: list[tuple[int, str, str]],
    added: list[SecretSpec],
    queries: list[SearchFilter],
) -> None:
    store = _store(specs)
    admin = store.users[0]
    ids = sorted(store.secrets)
    for position, name, machine in renames:
        secret = store.secrets[ids[position % len(ids)]]
        secret.name = name
        secret.items["machine"] = machine
        store.reindex(secret)
    for spec in added:
        store.add_secret(spec)
    store.add_secret(specs[0].model_copy(update={"id": ids[0], "template_id": 6100}))  # replaced
    for query in queries:
        assert store.search(admin, query) == _scan(store, admin, query)


def test_reset_forgets_the_index_of_added_secrets() -> None:
    store = Store(Dataset(secrets=[SecretSpec(name="kept")]), "admin-pw", time.time)
    store.add_secret(SecretSpec(name="added"))
    store.reset()
    admin = store.users[0]
    assert [s.name for s in store.search(admin, SearchFilter(search_text="added"))] == []
    assert [s.name for s in store.search(admin, SearchFilter(search_text="KEPT"))] == ["kept"]


#: two letters: values that share a query's trigrams without holding the query are common
NARROW = st.text(alphabet="abA", max_size=8)


@settings(max_examples=300)
@given(values=st.dictionaries(st.integers(0, 40), NARROW), text=NARROW, exact=st.booleans())
def test_text_index_matches_as_a_casefolded_scan(
    values: dict[int, str], text: str, exact: bool
) -> None:
    index: TextIndex[int] = TextIndex()
    for key, value in values.items():
        index.put(key, value.upper())  # replaced below: what counts is the last value
        index.put(key, value)
    folded = text.casefold()
    expected = {
        key
        for key, value in values.items()
        if (value.casefold() == folded if exact else folded in value.casefold())
    }
    assert index.matching(text, exact=exact) == expected
