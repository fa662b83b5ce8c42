"""Which event loop the agent serves on: uvloop's where it is installed, else asyncio's."""

from __future__ import annotations

import sys

import pytest
import uvloop

from credchain.agent.process import _loop_factory


def test_the_agent_serves_on_uvloop_where_it_is_installed() -> None:
    assert _loop_factory() is uvloop.new_event_loop


def test_without_uvloop_asyncio_s_own_loop_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert _loop_factory() is None
