"""Stopping the dev server: open connections end quietly."""

from __future__ import annotations

import logging

import pytest
import requests

from credchain.devserver import DevServer


@pytest.mark.timeout(30)
def test_close_with_an_open_keep_alive_connection_prints_nothing(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = DevServer().start()
    with requests.Session() as session:
        try:
            response = session.get(
                f"{server.url}/api/v1/healthcheck", verify=server.ca_cert, timeout=10
            )
            assert response.ok and response.headers["Connection"] == "keep-alive"
        finally:
            server.close()
    printed = capfd.readouterr().err + caplog.text
    assert "Traceback" not in printed and "CancelledError" not in printed
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
