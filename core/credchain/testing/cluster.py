"""Scanner nodes as child processes, started together: for tests and benchmarks of ``[cache]``.

```python
with ScanNode(home, queries_file, concurrency=16) as node:   # loads its resolver, then waits
    ...                                                       # start the others
    node.go()                                                 # all at once
    node.result()  # {"found": 2000, "not_found": 0, "failed": 0, "seconds": 2.1, "errors": []}
```

Each node runs ``python -m credchain.testing.cluster`` with ``CREDCHAIN_HOME=home``: it builds
``Resolver.from_config()``, says ``ready`` on stdout, waits for a line on stdin, runs
``resolve_many`` over the JSON-lines queries and prints its summary as one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from credchain.testing.process import child_environ

__all__ = ["ScanNode"]


class ScanNode:
    """One node (see the module docstring); a context manager that kills it if left running."""

    def __init__(
        self,
        home: Path,
        queries: Path,
        *,
        concurrency: int = 16,
        extra: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        env = child_environ(home, extra)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "credchain.testing.cluster", str(queries), str(concurrency)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            _, err = self.process.communicate(timeout=timeout)
            raise RuntimeError(f"the scan node did not start: {line!r}\n{err}")
        self.stderr = ""

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def result(self, timeout: float = 600.0) -> dict[str, Any]:
        out, self.stderr = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            raise RuntimeError(f"the scan node failed ({self.process.returncode}):\n{self.stderr}")
        summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return summary

    def __enter__(self) -> ScanNode:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def _main(queries_file: str, concurrency: str) -> None:
    import logging

    from credchain.resolver import Resolver

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    queries = [json.loads(line) for line in Path(queries_file).read_text().splitlines() if line]
    with Resolver.from_config() as resolver:
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        counts = {"found": 0, "not_found": 0, "failed": 0}
        errors: list[str] = []
        for resolution in resolver.resolve_many(queries, concurrency=int(concurrency)):
            if resolution.outcome == "found":
                counts["found"] += 1
            elif resolution.outcome == "not_found":
                counts["not_found"] += 1
            else:
                counts["failed"] += 1
                errors.append(str(resolution.error)[:200])
        seconds = time.perf_counter() - started
    print(json.dumps({**counts, "seconds": seconds, "errors": errors[:5]}), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:3])
