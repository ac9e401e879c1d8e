"""The REST API's paging contract and the request rules of 2024-12-01 (pure).

docs/serverless-contracts.md, "Listing a group's connections" and "Versions and routes".
"""

from __future__ import annotations

import pytest

from emulator.errors import BadRequest
from emulator.signalr.protocol.paging import PageRequest, parse_page_request
from emulator.signalr.protocol.payload import (
    check_api_version,
    check_stream_id,
    parse_minutes_to_expire,
    parse_ttl,
)

# query (lower-cased names, as RestCall holds it) -> the page request it asks for
PAGE_QUERIES = [
    ({}, PageRequest()),
    ({"maxpagesize": ["1"]}, PageRequest(max_page_size=1)),
    ({"maxpagesize": ["200"], "top": ["2147483647"]},
     PageRequest(max_page_size=200, top=2**31 - 1)),
    ({"continuationtoken": ["c2"], "top": ["5", "9"]},
     PageRequest(top=5, continuation_token="c2")),
    ({"continuationtoken": [""]}, PageRequest()),
]
BAD_PAGE_QUERIES = [
    {"maxpagesize": ["0"]},
    {"maxpagesize": ["201"]},
    {"maxpagesize": ["-1"]},
    {"maxpagesize": ["2.5"]},
    {"maxpagesize": [""]},
    {"top": ["0"]},
    {"top": ["2147483648"]},
    {"top": ["²"]},
]


@pytest.mark.parametrize(("query", "expected"), PAGE_QUERIES)
def test_parse_page_request_reads_the_spec_parameters(query, expected):
    assert parse_page_request(query) == expected


@pytest.mark.parametrize("query", BAD_PAGE_QUERIES)
def test_parse_page_request_refuses_values_out_of_bounds(query):
    with pytest.raises(BadRequest, match="must be an integer from 1 to"):
        parse_page_request(query)


def test_page_request_limit_is_the_smaller_of_page_size_and_top():
    assert PageRequest().limit == 200
    assert PageRequest(max_page_size=50, top=7).limit == 7
    assert PageRequest(max_page_size=5, top=7).limit == 5


def test_page_request_next_query_carries_cursor_and_what_remains_of_top():
    assert PageRequest(max_page_size=2).next_query("c2", 2) == {
        "maxpagesize": "2", "continuationToken": "c2"}
    assert list(PageRequest(max_page_size=2, top=5).next_query("c2", 2) or {}) == [
        "top", "maxpagesize", "continuationToken"]  # the order of the spec's example
    assert PageRequest(max_page_size=2, top=5).next_query("c2", 2) == {
        "top": "3", "maxpagesize": "2", "continuationToken": "c2"}
    assert PageRequest(max_page_size=2, top=2).next_query("c2", 2) is None


@pytest.mark.parametrize(("requested", "since"), [
    (None, "2024-12-01"), ("2024-12-01", "2024-12-01"), ("2024-12-01", "2022-06-01"),
    ("2023-07-01", "2023-07-01"), ("2099-01-01", "2024-12-01"), ("1.0", "2024-12-01"),
])
def test_check_api_version_lets_through_missing_unknown_and_later(requested, since):
    check_api_version(requested, since)


@pytest.mark.parametrize(("requested", "since"), [
    ("2022-06-01", "2023-07-01"), ("2023-07-01", "2024-12-01"), ("2022-06-01", "2024-12-01"),
])
def test_check_api_version_refuses_a_published_version_older_than_the_route(requested, since):
    with pytest.raises(BadRequest, match=f"api-version {requested} .* added in {since}"):
        check_api_version(requested, since)


def test_parse_minutes_to_expire_defaults_to_60_and_needs_at_least_1():
    assert parse_minutes_to_expire(None) == 60
    assert parse_minutes_to_expire("5") == 5
    for text in ("0", "-5", "", "x", "²", "2147483648"):
        with pytest.raises(BadRequest, match="minutesToExpire"):
            parse_minutes_to_expire(text)


def test_parse_ttl_refuses_digits_int_cannot_read():
    assert parse_ttl("0") == 0
    with pytest.raises(BadRequest, match="ttl"):
        parse_ttl("²")


def test_check_stream_id_is_1_to_100_characters_not_only_whitespace():
    assert check_stream_id("s" * 100) == "s" * 100
    for bad in ("", "   ", "s" * 101):
        with pytest.raises(BadRequest, match="stream id"):
            check_stream_id(bad)
