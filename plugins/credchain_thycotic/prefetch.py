"""Inventory prefetch: every secret the account may see, listed once, found by the mapped field.

With ``prefetch = true`` a scan lists the secrets (``GET secrets`` with no search text, ``take``
at a time, the mapped fields as ``extendedFields``) instead of searching once per asset, and
finds each asset's secrets in that listing by the per-asset search's own rule: the mapped field
(or the name) equal to the asset's value, or containing it with ``exact_match = false``, case
ignored, in the server's order, at most as many as a search takes. Choosing among several and
reading the credential are the per-asset path's own (``ThycoticProvider``), so a secret that
needs a comment or a check-out is still read by itself, and answers are the same.

The listing lives in memory while a run holds it (``Prefetch.hold``), and never longer: the
last ``release`` drops it. It is listed again after ``prefetch_ttl`` seconds (by the one lookup
that notices, while the others go on with the old listing). More secrets than
``prefetch_max_secrets``, or a listing that fails, and the entry searches per asset (one
warning).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from credchain.errors import CredchainError
from credchain.textindex import TextIndex
from credchain_thycotic.client import SecretServerClient, SecretSummary, field_key
from credchain_thycotic.settings import SECRET_NAME, ThycoticSettings

__all__ = ["Inventory", "Prefetch", "TooManySecrets", "list_inventory"]

log = logging.getLogger(__name__)


class TooManySecrets(Exception):
    """The account may see more secrets than ``prefetch_max_secrets``."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """The listed secrets, in the server's order, indexed by the mapped field's value."""

    summaries: Sequence[SecretSummary] = field(repr=False)
    index: TextIndex[int] = field(repr=False)
    exact: bool
    listed_at: float

    @classmethod
    def build(
        cls,
        summaries: Sequence[SecretSummary],
        *,
        search_field: str,
        exact: bool,
        listed_at: float,
    ) -> Inventory:
        """Index ``summaries`` (in listing order) by ``search_field``, or by name for
        ``Secret Name``; a secret whose template lacks the field, or whose value the listing
        withheld, is one no search by that field finds."""
        index: TextIndex[int] = TextIndex(contains=not exact)
        by_name = field_key(search_field) == field_key(SECRET_NAME)
        for position, summary in enumerate(summaries):
            if by_name:
                index.put(position, summary.name)
                continue
            present, value = summary.field(search_field)
            if present and value is not None:
                index.put(position, value)
        return cls(summaries, index, exact, listed_at)

    def __len__(self) -> int:
        return len(self.summaries)

    def find(self, text: str, take: int) -> list[SecretSummary]:
        """What the search for ``text`` would answer: the first ``take`` matches, in order."""
        positions = sorted(self.index.matching(text, exact=self.exact))[:take]
        return [self.summaries[position] for position in positions]


def list_inventory(
    client: SecretServerClient,
    settings: ThycoticSettings,
    *,
    search_field: str,
    extended_fields: Sequence[str],
    listed_at: float,
    folder_id: int | None = None,
) -> Inventory:
    """List every secret the account may see, page by page; ``TooManySecrets`` past the bound."""
    fields = list(dict.fromkeys([*extended_fields, search_field]))
    if field_key(search_field) == field_key(SECRET_NAME):
        fields.remove(search_field)
    limit, take = settings.prefetch_max_secrets, settings.prefetch_page_size
    summaries: list[SecretSummary] = []
    seen: set[int] = set()
    skip = 0
    while True:
        page = client.list_page(extended_fields=fields, take=take, skip=skip, folder_id=folder_id)
        if page.total is not None and page.total > limit:
            raise TooManySecrets(f"the account may see {page.total} secrets")
        for summary in page.summaries:
            if summary.id not in seen:  # a secret added while listing shifts the pages
                seen.add(summary.id)
                summaries.append(summary)
        if len(summaries) > limit:
            raise TooManySecrets(f"the account may see more than {limit} secrets")
        skip += len(page.summaries)
        more = page.has_next if page.has_next is not None else len(page.summaries) == take
        if not more or not page.summaries:
            break
    return Inventory.build(
        summaries, search_field=search_field, exact=settings.exact_match, listed_at=listed_at
    )


class Prefetch:
    """One entry's listing, shared by the runs that hold it; thread-safe.

    ``list_now()`` makes a listing (``list_inventory``); ``clock`` is the entry's clock.
    """

    def __init__(
        self,
        entry: str,
        settings: ThycoticSettings,
        list_now: Callable[[float], Inventory],
        clock: Callable[[], float],
    ) -> None:
        self.entry, self.settings, self._list, self._clock = entry, settings, list_now, clock
        self._lock = threading.Lock()
        self._listing = threading.Lock()
        self._holders = 0
        self._inventory: Inventory | None = None
        self._attempted = float("-inf")
        #: the listing was refused (too many secrets, or it failed): per-asset search
        self.fell_back = False

    def hold(self) -> _Held:
        """Hold the listing for a run (listing now unless a fresh one is held); ``release``
        it after."""
        with self._listing:
            with self._lock:
                self._holders += 1
                current = self._inventory
            if current is None or self._stale():
                self._replace()
        return _Held(self)

    def inventory(self) -> Inventory | None:
        """The listing to answer from, or ``None`` (no run holds one, or it fell back).

        Past ``prefetch_ttl`` since the last listing (or failed listing) the caller that
        notices lists again, while the others go on with the old one; if that fails, the old
        one is dropped and lookups search per asset until the next attempt.
        """
        if self._holders and self._stale() and self._listing.acquire(blocking=False):
            try:
                if self._holders and self._stale():
                    self._replace()
            finally:
                self._listing.release()
        return self._inventory

    def _stale(self) -> bool:
        return self._clock() - self._attempted >= self.settings.prefetch_ttl

    def _replace(self) -> None:
        """List again (``_listing`` held); on failure, drop the listing with one warning."""
        self._attempted = self._clock()
        try:
            fresh: Inventory | None = self._list(self._attempted)
            self.fell_back = False
        except TooManySecrets as exc:
            fresh = None
            limit = self.settings.prefetch_max_secrets
            self._warn(f"{exc} (prefetch_max_secrets = {limit}): searching per asset instead")
        except CredchainError as exc:
            fresh = None
            self._warn(f"listing the secrets failed ({exc}): searching per asset instead")
        with self._lock:
            self._inventory = fresh if self._holders else None

    def _warn(self, message: str) -> None:
        if not self.fell_back:
            log.warning("entry %s: prefetch: %s", self.entry, message)
        self.fell_back = True

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders <= 0:
                self._holders = 0
                self._inventory = None  # the listing lives for the scan only

    def drop(self) -> None:
        """Forget the listing whoever holds it (the provider is closing)."""
        with self._lock:
            self._holders = 0
            self._inventory = None


class _Held:
    """A run's hold on a ``Prefetch`` (``credchain.provider.Prefetched``)."""

    __slots__ = ("_prefetch",)

    def __init__(self, prefetch: Prefetch) -> None:
        self._prefetch: Prefetch | None = prefetch

    def release(self) -> None:
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            prefetch.release()
