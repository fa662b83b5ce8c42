"""The credchain home: one directory per scanner account, and every file credchain keeps in it.

```
HOME/                                 CREDCHAIN_HOME, else the platform's user config directory
├── credchain.toml                    the admin's configuration (``credchain.config``)
├── secret.key                        the key of ``enc:`` values and caches (``secretstore``)
├── .lock                             taken by every writer of the configuration
├── last_test.json                    the last ``credchain test`` result, for ``status``
├── agent.sock                        ``credchain agent``'s Unix socket (``credchain.agent``)
├── cache/tokens/<identity>.token     vault tokens, encrypted (``credchain.cache``)
├── cache/shared/<name>.entry         ``[cache] backend = "file"``: tokens and answers, sealed
└── integrations/custom/thycotic/     SAFE's place for the custom script and the mapping file
```

Everything is mode 0600 in directories of mode 0700. This module is the one place these names
are written down; providers build their own file names inside ``CUSTOM_DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

__all__ = [
    "AGENT_SOCKET",
    "CONFIG_FILE",
    "CUSTOM_DIR",
    "KEY_FILE",
    "LAST_TEST_FILE",
    "LOCK_FILE",
    "SHARED_CACHE_DIR",
    "TOKEN_CACHE_DIR",
    "default_home",
]

CONFIG_FILE = "credchain.toml"
KEY_FILE = "secret.key"
LOCK_FILE = ".lock"
LAST_TEST_FILE = "last_test.json"
AGENT_SOCKET = "agent.sock"
#: relative to the home
TOKEN_CACHE_DIR = Path("cache", "tokens")
#: relative to the home: the file backend of the shared cache (``credchain.cache``)
SHARED_CACHE_DIR = Path("cache", "shared")
#: relative to the home: custom scripts and ``thycotic_mapping.json``, as in SAFE
CUSTOM_DIR = Path("integrations", "custom", "thycotic")


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """``CREDCHAIN_HOME``, else the platform's user config directory."""
    env = os.environ if environ is None else environ
    if env.get("CREDCHAIN_HOME"):
        return Path(env["CREDCHAIN_HOME"]).expanduser()
    return platformdirs.user_config_path("credchain")
