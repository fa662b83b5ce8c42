"""How many search requests per second the dev server answers (loopback, keep-alive, TLS).

The server runs as ``credchain dev-server`` in its own process; the load comes from several
client processes, each with threads, each thread with its own keep-alive ``http.client``
connection (a lighter client than ``requests``, so the client is not what is measured).
Bounded: a fixed duration, then everything stops by itself.

    .venv/bin/python benchmarks/devserver_throughput.py [--seconds 10] [--processes 4]
        [--threads 4] [--no-tls]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import ssl
import time
import urllib.parse
from typing import Any

from devserver_process import DevServerProcess

QUERIES = [f"web-0{i}" for i in range(1, 7)] + [f"dc-0{i}" for i in range(1, 3)]


def _connect(url: str, ca_cert: str | None) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=ca_cert)
        return http.client.HTTPSConnection(host, port, context=context, timeout=10)
    return http.client.HTTPConnection(host, port, timeout=10)


def _token(info: dict[str, Any]) -> str:
    conn = _connect(info["url"], info["ca_cert"])
    form = urllib.parse.urlencode({"grant_type": "password", **info["admin"]})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", "/SecretServer/oauth2/token", form, headers)
    token: str = json.loads(conn.getresponse().read())["access_token"]
    conn.close()
    return token


def _worker(info: dict[str, Any], token: str, start: float, deadline: float, out: Any) -> None:
    import threading

    counts: list[int] = []

    def loop(index: int) -> None:
        conn = _connect(info["url"], info["ca_cert"])
        headers = {"Authorization": f"Bearer {token}"}
        done = errors = 0
        conn.connect()  # handshake before the clock starts
        time.sleep(max(0.0, start - time.time()))
        while time.time() < deadline:
            text = QUERIES[(index + done) % len(QUERIES)]
            path = f"/SecretServer/api/v1/secrets?filter.searchText={text}&take=10"
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                done += 1
            else:
                errors += 1
        conn.close()
        counts.append(done)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(info["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(sum(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-tls", action="store_true")
    args = parser.parse_args()
    with DevServerProcess(*(["--no-tls"] if args.no_tls else [])) as server:
        info = dict(server.info)
        info["threads"] = args.threads
        token = _token(info)
        warmup = 1.0
        start = time.time() + warmup
        deadline = start + args.seconds
        queue: multiprocessing.Queue[int] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=_worker, args=(info, token, start, deadline, queue))
            for _ in range(args.processes)
        ]
        for proc in procs:
            proc.start()
        total = sum(queue.get(timeout=args.seconds + 60) for _ in procs)
        for proc in procs:
            proc.join(timeout=10)
        elapsed = args.seconds
        clients = args.processes * args.threads
        scheme = "http" if args.no_tls else "https"
        print(
            f"{total / elapsed:.0f} search requests/s over {scheme} with {clients} keep-alive "
            f"clients ({args.processes} processes x {args.threads} threads, http.client) "
            f"in {elapsed:.0f} s"
        )


if __name__ == "__main__":
    main()
