"""What the fuzz tests share: example budgets, hostile strategies, and the CLI's promises.

Budgets are small so ``tests/fuzz`` stays fast in CI. For a long run, scale every budget (and
the timeouts with it)::

    CREDCHAIN_FUZZ_SCALE=50 .venv/bin/python -m pytest tests/fuzz -n 2

CI never sets it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: every example budget is multiplied by this (see the module docstring)
SCALE = max(1, int(os.environ.get("CREDCHAIN_FUZZ_SCALE", "1")))


def fuzz_settings(examples: int) -> settings:
    """``examples`` (times ``SCALE``) examples, no per-example deadline (the machine is shared)."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # fixtures hold a config, not per-example state
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def fuzz_timeout(seconds: float) -> pytest.MarkDecorator:
    """The module's no-hang bound, scaled with the budgets."""
    return pytest.mark.timeout(seconds * SCALE)


# -- text ---------------------------------------------------------------------------------------

#: characters that break naive code: C0/C1 controls, NUL, BOM, line and paragraph separators
CONTROLS = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x1F),
    st.sampled_from(["\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\ufeff", "\u200b", "\u202e"]),
)
#: lone surrogates: JSON may carry them (``"\\ud800"``), UTF-8 cannot
SURROGATES = st.characters(categories=["Cs"])
ODD_CHARACTERS = st.one_of(st.characters(), CONTROLS, SURROGATES)
#: words that mean something to the code under test
WORDS = st.sampled_from(
    [
        "",
        " ",
        "web-01",
        "10.0.0.1",
        "::1",
        "enc:",
        "enc:gAAAA",
        "~",
        "~nosuchuser-credchain",
        "..",
        "/",
        "\x00",
        "%s",
        "{0}",
        "${HOME}",
        "asset_name",
        "password",
        "username",
        "thycotic",
        "custom-script",
        "domain-fallback",
        "Secret Name",
    ]
)
SHORT_TEXT = st.one_of(WORDS, st.text(ODD_CHARACTERS, max_size=24))
#: text as inventories hold it: host names, addresses, ids
PLAIN_TEXT = st.text(st.sampled_from("abcXYZ019.-_:@\\/ "), min_size=1, max_size=24)


@st.composite
def spiked(draw: st.DrawFn, base: st.SearchStrategy[str] = PLAIN_TEXT) -> str:
    """Plausible text with one odd character in it: a value that is almost valid."""
    text = draw(base)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(ODD_CHARACTERS) + text[at:]


@st.composite
def huge_text(
    draw: st.DrawFn,
    min_size: int = 1000,
    max_size: int = 300_000,
    alphabet: st.SearchStrategy[str] = ODD_CHARACTERS,
) -> str:
    """A long string, built by repetition so generating it stays cheap."""
    unit = draw(st.text(alphabet, min_size=1, max_size=4))
    return unit * (draw(st.integers(min_size, max_size)) // len(unit) + 1)


#: mostly short, now and then huge
TEXT = st.one_of(*[SHORT_TEXT] * 7, huge_text())

# -- JSON-like values ---------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too: Python's json reads and writes them
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_KEYS = st.one_of(st.sampled_from(["asset_name", "ip_address", "cmdb_id", "domain"]), TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(JSON_KEYS, children, max_size=4)
    ),
    max_leaves=12,
)


def nested(depth: int, leaf: str = "1") -> str:
    """JSON (and TOML) text of arrays nested ``depth`` deep."""
    return "[" * depth + leaf + "]" * depth


#: JSON texts that parsers choke on: deep nesting, integers past Python's digit limit
HOSTILE_JSON = st.one_of(
    st.integers(1_000, 50_000).map(nested),
    st.integers(1_000, 20_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.integers(sys.get_int_max_str_digits() + 1, 20_000).map(lambda digits: "7" * digits),
)


def json_text(value: object) -> str:
    """``value`` as JSON; lone surrogates are escaped (``ensure_ascii``), so always encodable."""
    return json.dumps(value)


# -- the CLI's promises -------------------------------------------------------------------------


def assert_clean_exit(result: Result, codes: Sequence[int]) -> None:
    """An exit code of ``codes``, no traceback, and no exception but click's own exit."""
    assert result.exit_code in codes, (result.exit_code, result.output, result.exception)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def assert_one_error_line(result: Result) -> None:
    """The machine contract's failure: one line on stderr, nothing on stdout."""
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert result.stderr.startswith("credchain: "), result.stderr


#: the one asset the CLI fuzz tests' chain knows
KNOWN = "web-01"


def static_chain(
    site: Path, write_config: Callable[[dict[str, object]], Path], password: str
) -> Path:
    """A config whose one entry (an in-memory provider) knows ``KNOWN`` with ``password``."""
    from credchain.testing.distributions import write_distribution

    write_distribution(
        site,
        "credchain-fuzz-providers",
        "1.0",
        {"static": "credchain.testing.providers:StaticProvider"},
    )
    credentials = {KNOWN: {"username": "svc", "password": password}}
    return write_config(
        {"chain": ["lab"], "providers": {"lab": {"type": "static", "credentials": credentials}}}
    )
