"""The paging contract of the REST API's list routes (2024-12-01), pure.

docs/serverless-contracts.md, "Listing a group's connections": ``maxpagesize`` (1 to 200, default
200) bounds one page, ``top`` (at least 1; unset: everything) bounds the whole listing, and every
page but the last carries ``nextLink``, an absolute URL whose query holds the
``continuationToken`` of the next page. Here the token is the last connection id of the page (a
cursor, as the spec's example shows) and the ``top`` of a next link is what remains of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import BadRequest

__all__ = ["MAX_PAGE_SIZE", "MAX_TOP", "PageRequest", "parse_page_request"]

MAX_PAGE_SIZE = 200
MAX_TOP = 2**31 - 1
"""``top`` is an int32 in the spec."""

_INTEGER = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True, kw_only=True)
class PageRequest:
    max_page_size: int = MAX_PAGE_SIZE
    top: int | None = None
    continuation_token: str | None = None

    @property
    def limit(self) -> int:
        """How many items this page holds at most."""
        return self.max_page_size if self.top is None else min(self.max_page_size, self.top)

    def next_query(self, last: str, returned: int) -> dict[str, str] | None:
        """The query of the page after one that ended at ``last`` and held ``returned`` items
        (spec names, in the spec example's order); None once ``top`` is used up."""
        query: dict[str, str] = {}
        if self.top is not None:
            remaining = self.top - returned
            if remaining <= 0:
                return None
            query["top"] = str(remaining)
        query["maxpagesize"] = str(self.max_page_size)
        query["continuationToken"] = last
        return query


def parse_page_request(query: Mapping[str, list[str]]) -> PageRequest:
    """``maxpagesize``, ``top`` and ``continuationToken`` from a query keyed by lower-cased name
    (the first value of each); 400 for a number out of the spec's bounds."""
    size = _first(query, "maxpagesize")
    top = _first(query, "top")
    token = _first(query, "continuationtoken")
    return PageRequest(
        max_page_size=MAX_PAGE_SIZE if size is None else _integer("maxpagesize", size,
                                                                     MAX_PAGE_SIZE),
        top=None if top is None else _integer("top", top, MAX_TOP),
        continuation_token=token or None,
    )


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _integer(name: str, text: str, maximum: int) -> int:
    if not _INTEGER.fullmatch(text) or not 1 <= int(text) <= maximum:
        raise BadRequest(f"{name} must be an integer from 1 to {maximum}")
    return int(text)
