"""A small client of ``credchain agent`` on the standard library's ``http.client``: it needs no
aiohttp and loads no resolver (``credchain.agent.Client``).

```python
from credchain.agent import Client

with Client() as agent:                 # $CREDCHAIN_AGENT_SOCKET, else agent.sock in the home
    credential = agent.resolve({"asset_name": "web-01"})   # a SafeCredential
    for line in agent.resolve_many([{"asset_name": "web-01"}, {"ip_address": "10.0.0.9"}]):
        ...                             # dicts, as /v1/resolve-many writes them
```

One keep-alive connection per client (use one client per thread). A problem answer raises the
credchain error it came from (``CredentialNotFound`` for 404, ``ProviderUnavailable`` for a
vault that is down ...), its message the agent's one line; a caller the agent does not serve
gets ``AgentRefused``, and a dead or missing agent ``AgentUnavailable``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from credchain.agent.problems import PREFIX, error_class
from credchain.errors import CredchainError, ProviderUnavailable
from credchain.home import AGENT_SOCKET, default_home
from credchain.models import AssetQuery, SafeCredential

__all__ = ["AgentRefused", "AgentUnavailable", "Client", "default_socket"]

#: the environment variable naming the agent's socket
SOCKET_ENV = "CREDCHAIN_AGENT_SOCKET"


class AgentUnavailable(ProviderUnavailable):
    """The agent is not running, or went away mid-answer."""


class AgentRefused(CredchainError):
    """The agent does not serve this caller (its ``[agent]`` policy, or a missing token);
    ``slug`` is the problem's (``forbidden`` or ``unauthorized``)."""

    def __init__(self, message: str, *, slug: str = "forbidden") -> None:
        super().__init__(message)
        self.slug = slug


def default_socket(environ: Mapping[str, str] | None = None) -> Path:
    """``$CREDCHAIN_AGENT_SOCKET``, else ``agent.sock`` in the credchain home."""
    env = os.environ if environ is None else environ
    if env.get(SOCKET_ENV):
        return Path(env[SOCKET_ENV])
    return default_home(env) / AGENT_SOCKET


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Client:
    """Asks a running agent, over its Unix socket or (``url``) over HTTPS with a bearer token."""

    def __init__(
        self,
        socket_path: str | os.PathLike[str] | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        cafile: str | os.PathLike[str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._token = token
        if url is not None:
            host, _, port = url.removeprefix("https://").rstrip("/").rpartition(":")
            context = ssl.create_default_context(cafile=os.fspath(cafile) if cafile else None)
            self.where = url
            self._connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host.strip("[]"), int(port), timeout=timeout, context=context
            )
        else:
            path = Path(socket_path) if socket_path is not None else default_socket()
            self.where = f"unix:{path}"
            self._connection = _UnixConnection(str(path), timeout)

    # -- the API ---------------------------------------------------------------------------------

    def resolve(self, query: AssetQuery | Mapping[str, object]) -> SafeCredential:
        """The asset's credential; raises the error the agent answered with."""
        body, headers = self._call("POST", "/v1/resolve", _query_body(query))
        source = headers.get("Credchain-Entry", "")
        return SafeCredential.from_safe_dict(json.loads(body), source=source)

    def resolve_many(
        self,
        queries: Iterable[AssetQuery | Mapping[str, object]],
        *,
        concurrency: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """One dict per query, in completion order, each with its ``index`` in ``queries``."""
        body = b"".join(_query_body(q) + b"\n" for q in queries)
        path = "/v1/resolve-many" + (f"?concurrency={concurrency}" if concurrency else "")
        response = self._send("POST", path, body, "application/x-ndjson")
        if response.status != 200:
            self._raise(response.status, response.read())
        try:
            for line in response:
                yield json.loads(line)
        except (OSError, http.client.HTTPException) as exc:
            self._connection.close()
            raise AgentUnavailable(f"the agent at {self.where} went away: {exc}") from None

    def explain(self, query: AssetQuery | Mapping[str, object]) -> dict[str, Any]:
        """The trace of a walk for ``query``."""
        return dict(json.loads(self._call("POST", "/v1/explain", _query_body(query))[0]))

    def health(self) -> dict[str, Any]:
        return dict(json.loads(self._call("GET", "/v1/health")[0]))

    def reload(self) -> dict[str, Any]:
        return dict(json.loads(self._call("POST", "/v1/reload", b"")[0]))

    def metrics(self) -> str:
        return self._call("GET", "/metrics")[0].decode()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the wire --------------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[bytes, http.client.HTTPMessage]:
        response = self._send(method, path, body, "application/json")
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._connection.close()
            raise AgentUnavailable(f"the agent at {self.where} went away: {exc}") from None
        if response.status != 200:
            self._raise(response.status, data)
        return data, response.headers

    def _send(
        self, method: str, path: str, body: bytes | None, content_type: str
    ) -> http.client.HTTPResponse:
        headers = {"Content-Type": content_type} if body is not None else {}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        for attempt in (1, 2):
            try:
                self._connection.request(method, path, body=body, headers=headers)
                return self._connection.getresponse()
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                # a keep-alive connection the agent closed (idle, or restarted): once more
                self._connection.close()
                if attempt == 2:
                    break
            except (OSError, http.client.HTTPException) as exc:
                self._connection.close()
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                raise AgentUnavailable(f"no agent answers at {self.where}: {reason}") from None
        raise AgentUnavailable(f"the agent at {self.where} closed the connection")

    @staticmethod
    def _raise(status: int, data: bytes) -> None:
        try:
            problem = json.loads(data)
            slug = str(problem["type"]).removeprefix(PREFIX)
            detail = str(problem["detail"])
        except (ValueError, KeyError, TypeError):
            raise CredchainError(f"the agent answered HTTP {status}") from None
        if slug in ("forbidden", "unauthorized"):
            raise AgentRefused(f"the agent refused this caller: {detail}", slug=slug)
        raise error_class(slug)(detail)


def _query_body(query: AssetQuery | Mapping[str, object]) -> bytes:
    data = query.model_dump(exclude_none=True) if isinstance(query, AssetQuery) else dict(query)
    return json.dumps(data).encode()
