"""``credchain dev-server`` in its own process, for benchmarks: started, read, stopped.

The benchmarks run the server apart from the client they measure, so the two do not share a GIL.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests


class DevServerProcess:
    """A dev server started with ``flags``; ``info`` is its ready line. A context manager."""

    def __init__(self, *flags: str) -> None:
        command = [sys.executable, "-m", "credchain", "dev-server", "--port", "0", "--quiet"]
        self.process = subprocess.Popen(
            [*command, *flags], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        self.info: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.info["url"]))

    def stats(self) -> dict[str, dict[str, int]]:
        reply = requests.get(f"{self.origin}/_dev/stats", verify=self.info["ca_cert"], timeout=10)
        return reply.json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        requests.post(f"{self.origin}/_dev/reset-stats", verify=self.info["ca_cert"], timeout=10)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def __enter__(self) -> DevServerProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
