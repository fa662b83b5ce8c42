"""Keys found by a text value, without a scan: exact and "contains", both case-insensitive.

Secret Server's search compares case-insensitively: ``filter.isExactMatch=true`` is equality,
``false`` is "contains". ``TextIndex`` answers both as a scan of ``text.casefold()`` against
each value's ``casefold()`` would, at a cost that does not grow with the number of values:
equality from a dict, "contains" from the values sharing the query's rarest trigram (each one
checked), and texts shorter than a trigram by a scan (rare, and still right).

The dev server's search (``devserver.store``) and the Thycotic prefetch index use it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["TextIndex"]

K = TypeVar("K", bound=Hashable)
_GRAM = 3


def _grams(folded: str) -> Iterator[str]:
    for start in range(len(folded) - _GRAM + 1):
        yield folded[start : start + _GRAM]


class TextIndex(Generic[K]):
    """Keys by one text value each; not thread-safe (the owner locks)."""

    __slots__ = ("_by_gram", "_by_value", "_values", "contains")

    def __init__(self, *, contains: bool = True) -> None:
        #: also index trigrams, for ``containing`` (without them it scans)
        self.contains = contains
        self._values: dict[K, str] = {}
        self._by_value: dict[str, set[K]] = {}
        self._by_gram: dict[str, set[K]] = {}

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def put(self, key: K, text: str) -> None:
        """Index ``key`` by ``text``, replacing what it was indexed by."""
        folded = text.casefold()
        if self._values.get(key) == folded:
            return
        self.discard(key)
        self._values[key] = folded
        self._by_value.setdefault(folded, set()).add(key)
        if self.contains:
            for gram in set(_grams(folded)):
                self._by_gram.setdefault(gram, set()).add(key)

    def discard(self, key: K) -> None:
        folded = self._values.pop(key, None)
        if folded is None:
            return
        _remove(self._by_value, folded, key)
        if self.contains:
            for gram in set(_grams(folded)):
                _remove(self._by_gram, gram, key)

    def equal(self, text: str) -> set[K]:
        """The keys whose value equals ``text``, case-insensitively."""
        return set(self._by_value.get(text.casefold(), ()))

    def containing(self, text: str) -> set[K]:
        """The keys whose value contains ``text``, case-insensitively (``""``: every key)."""
        folded = text.casefold()
        if len(folded) < _GRAM or not self.contains:
            return {key for key, value in self._values.items() if folded in value}
        rarest: set[K] | None = None
        for gram in _grams(folded):
            keys = self._by_gram.get(gram)
            if not keys:
                return set()
            if rarest is None or len(keys) < len(rarest):
                rarest = keys
        assert rarest is not None
        return {key for key in rarest if folded in self._values[key]}

    def matching(self, text: str, *, exact: bool) -> set[K]:
        """``equal`` or ``containing``, as ``filter.isExactMatch`` says."""
        return self.equal(text) if exact else self.containing(text)


def _remove(table: dict[str, set[K]], name: str, key: K) -> None:
    keys = table.get(name)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del table[name]
