"""``credchain agent``: the configured chain as a long-running local service (docs/agent.md).

The server (``server``, ``service``, ``process``) needs aiohttp and prometheus-client; the
client does not: ``from credchain.agent import Client`` loads neither, nor the resolver.
"""

from __future__ import annotations

from credchain.agent.client import Client

__all__ = ["Client"]
