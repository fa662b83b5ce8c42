"""A ready test suite for cache backends (``credchain.cache.CacheBackend``), like keyring's.

Subclass ``BackendContract`` in your tests and give it a ``backend`` fixture; each test is one
behaviour credchain relies on::

    class TestMyBackend(BackendContract):
        @pytest.fixture
        def backend(self, tmp_path):
            return MyBackend(...)

Expiry is checked by waiting for it, bounded (``EXPIRY_WAIT``), never by timing a threshold.
"""

from __future__ import annotations

import threading
import time

from credchain.cache import CacheBackend

__all__ = ["EXPIRY_WAIT", "BackendContract"]

#: the longest a test waits for a short-lived entry to expire
EXPIRY_WAIT = 10.0


def _eventually_gone(backend: CacheBackend, name: str) -> bool:
    deadline = time.monotonic() + EXPIRY_WAIT
    while time.monotonic() < deadline:
        if backend.get(name) is None:
            return True
        time.sleep(0.02)
    return False


class BackendContract:
    """What every backend must do (see ``credchain.cache.backend``)."""

    prefix = "credchain-test:"

    def test_a_name_never_set_is_a_miss(self, backend: CacheBackend) -> None:
        assert backend.get(self.prefix + "absent") is None

    def test_a_value_set_is_read_back_unchanged(self, backend: CacheBackend) -> None:
        value = bytes(range(256))
        backend.set(self.prefix + "a", value, 60)
        assert backend.get(self.prefix + "a") == value

    def test_a_value_expires_after_its_ttl(self, backend: CacheBackend) -> None:
        backend.set(self.prefix + "short", b"x", 0.05)
        backend.set(self.prefix + "long", b"y", 600)
        assert _eventually_gone(backend, self.prefix + "short")
        assert backend.get(self.prefix + "long") == b"y"

    def test_delete_forgets_a_value(self, backend: CacheBackend) -> None:
        backend.set(self.prefix + "a", b"x", 60)
        backend.delete(self.prefix + "a")
        backend.delete(self.prefix + "never-set")
        assert backend.get(self.prefix + "a") is None

    def test_add_takes_a_free_name_only(self, backend: CacheBackend) -> None:
        assert backend.add(self.prefix + "lock", b"one", 60)
        assert not backend.add(self.prefix + "lock", b"two", 60)
        assert backend.get(self.prefix + "lock") == b"one"

    def test_add_takes_a_name_whose_value_expired(self, backend: CacheBackend) -> None:
        assert backend.add(self.prefix + "lock", b"one", 0.05)
        assert _eventually_gone(backend, self.prefix + "lock")
        assert backend.add(self.prefix + "lock", b"two", 60)

    def test_delete_if_deletes_only_the_value_it_is_given(self, backend: CacheBackend) -> None:
        backend.add(self.prefix + "lock", b"mine", 60)
        assert not backend.delete_if(self.prefix + "lock", b"theirs")
        assert backend.get(self.prefix + "lock") == b"mine"
        assert backend.delete_if(self.prefix + "lock", b"mine")
        assert backend.get(self.prefix + "lock") is None
        assert not backend.delete_if(self.prefix + "lock", b"mine")

    def test_only_one_of_many_threads_adding_a_name_gets_it(self, backend: CacheBackend) -> None:
        start = threading.Barrier(8)
        won: list[bool] = []

        def contend(index: int) -> None:
            start.wait()
            won.append(backend.add(self.prefix + "contended", str(index).encode(), 60))

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert won.count(True) == 1

    def test_clear_deletes_its_prefix_only(self, backend: CacheBackend) -> None:
        backend.set(self.prefix + "a", b"1", 60)
        backend.set(self.prefix + "b", b"2", 60)
        backend.set("other:c", b"3", 60)
        assert backend.clear(self.prefix) == 2
        assert backend.get(self.prefix + "a") is None
        assert backend.get("other:c") == b"3"

    def test_describe_names_where_it_is(self, backend: CacheBackend) -> None:
        assert backend.describe()
