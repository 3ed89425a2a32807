"""Rows in pages: random access to any page of a result, a bounded window of pages kept in memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PAGE_SIZE = 200
WINDOW_PAGES = 10  # pages kept in memory: 2,000 rows at the default page size


class RowSource(Protocol):
    """Where the pages come from: a held server-side cursor, or rows already in memory."""

    def fetch(self, start: int, count: int) -> list[tuple[Any, ...]]:
        """Rows `start` (0-based) to `start + count`, fewer at the end."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Page:
    number: int  # 0-based
    start: int  # 0-based index of the first row
    rows: list[tuple[Any, ...]]
    total_rows: int | None  # None while the result is still being counted

    @property
    def caption(self) -> str:
        return rows_caption(self.start, self.start + len(self.rows), self.total_rows)


def rows_caption(start: int, stop: int, total: int | None) -> str:
    """ "rows 200,001–200,200 of 1,000,000" for rows start..stop (0-based, stop excluded)."""
    of = f"of {total:,}" if total is not None else "(counting…)"
    if stop <= start:
        return "no rows" if total == 0 else f"no rows here {of}"
    return f"rows {start + 1:,}–{stop:,} {of}"


class InMemoryRows:
    """A RowSource over a list (EXPLAIN output, small results)."""

    def __init__(self, rows: Sequence[tuple[Any, ...]]):
        self._rows = list(rows)

    def fetch(self, start: int, count: int) -> list[tuple[Any, ...]]:
        return self._rows[start : start + count]

    def close(self) -> None:
        self._rows = []


class PagedRows:
    """Pages of a result with a known total; at most `window_pages` pages stay in memory (least recently used go)."""

    def __init__(
        self,
        source: RowSource,
        total_rows: int,
        *,
        page_size: int = PAGE_SIZE,
        window_pages: int = WINDOW_PAGES,
        first_page: list[tuple[Any, ...]] | None = None,
    ):
        if page_size < 1 or window_pages < 1:
            raise ValueError("page_size and window_pages must be at least 1")
        self._source = source
        self.total_rows = total_rows
        self.page_size = page_size
        self.window_pages = window_pages
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()
        self._lock = threading.Lock()
        if first_page is not None:
            self._pages[0] = first_page[:page_size]

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total_rows // self.page_size))

    @property
    def cached_pages(self) -> list[int]:
        """Page numbers in memory, least recently used first."""
        with self._lock:
            return list(self._pages)

    def page(self, number: int) -> Page:
        """Page `number` (0-based), from memory or fetched from the source."""
        if not 0 <= number < self.page_count:
            raise IndexError(f"page {number + 1} does not exist: the result has {self.page_count:,} page(s)")
        with self._lock:
            rows = self._pages.get(number)
            if rows is None:
                rows = self._source.fetch(number * self.page_size, self.page_size)
                self._pages[number] = rows
                while len(self._pages) > self.window_pages:
                    self._pages.popitem(last=False)
            self._pages.move_to_end(number)
        return Page(number, number * self.page_size, rows, self.total_rows)

    def rows(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        """Rows start..stop (0-based, stop excluded), across pages; at most a window's worth at once."""
        start, stop = max(0, start), min(stop, self.total_rows)
        if stop - start > self.page_size * self.window_pages:
            raise ValueError(f"at most {self.page_size * self.window_pages:,} rows at once")
        found: list[tuple[Any, ...]] = []
        for number in range(start // self.page_size, -(-stop // self.page_size)):
            page = self.page(number)
            found += page.rows[max(0, start - page.start) : stop - page.start]
        return found

    def close(self) -> None:
        with self._lock:
            self._pages.clear()
        self._source.close()
