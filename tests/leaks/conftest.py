"""Fixtures of the leak scan: one planted dev server per module, a planted home per test."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from leak_helpers import ENV_VAR, PLANTED, Plant, TokenLog, dataset, write_home, write_scripts

from credchain.devserver import DevServer


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    """The planted dev server (its tokens recorded) and the custom scripts, for a module."""
    scripts = tmp_path_factory.mktemp("leak-scripts")
    with DevServer(data=dataset()) as server:
        found = Plant(server, TokenLog(server), scripts)
        write_scripts(scripts, found.env_dump)
        yield found


@pytest.fixture(autouse=True)
def planted_environment(
    plant: Plant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """The environment password set, logs captured at DEBUG; faults cleared after each test."""
    monkeypatch.setenv(ENV_VAR, PLANTED["environment vault password"])
    caplog.set_level(logging.DEBUG)
    yield
    plant.server.clear_faults()
    plant.env_dump.unlink(missing_ok=True)


@pytest.fixture
def leak_home(home: Path, plant: Plant) -> Path:
    """A planted home (``CREDCHAIN_HOME``): encrypted config, its key a canary."""
    write_home(home, plant)
    return home
