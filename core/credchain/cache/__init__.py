"""Caches: the per-host token file, and the cache that processes and nodes share.

```
credchain.cache
├── TokenCache          HOME/cache/tokens/: one vault token per account, per host (token_cache)
├── Cache               a backend behind hashed names, sealed values, leases and outages
│   ├── SharedTokens    one grant per vault account per token lifetime, for all processes
│   └── SharedAnswers   one walk of the chain per asset, for all processes
├── CacheBackend        what a backend implements (``backend``): memory, file, redis, yours
└── open_cache(config)  the ``[cache]`` table: which backend, how long to wait for it
```

Everything a backend holds is sealed with keys derived from the home's ``secret.key``: the
nodes of a cluster share that file (docs/cluster.md).
"""

from credchain.cache._cluster import SharedAnswers, SharedTokens
from credchain.cache._settings import CacheSettings, chain_namespace, open_cache
from credchain.cache._shared import Cache, Lease
from credchain.cache._tokenfile import TokenCache, token_identity
from credchain.cache.backend import (
    BACKEND_GROUP,
    BackendSettings,
    CacheBackend,
    CacheUnavailable,
    backend_class,
    installed_backends,
)

__all__ = [
    "BACKEND_GROUP",
    "BackendSettings",
    "Cache",
    "CacheBackend",
    "CacheSettings",
    "CacheUnavailable",
    "Lease",
    "SharedAnswers",
    "SharedTokens",
    "TokenCache",
    "backend_class",
    "chain_namespace",
    "installed_backends",
    "open_cache",
    "token_identity",
]
