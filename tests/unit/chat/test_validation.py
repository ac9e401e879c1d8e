from __future__ import annotations

import pytest

from chat import (
    InvalidGroupName,
    InvalidMessage,
    parse_admins,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("hi", "hi"), ("  padded\t", "padded"), ("x" * 2000, "x" * 2000), ("é😀", "é😀")],
)
def test_validate_text_accepts_and_trims(raw: str, expected: str) -> None:
    assert validate_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "cannot be empty"),
        ("   \n ", "cannot be empty"),
        ("x" * 2001, "at most 2000"),
        (None, "must be text"),
        (42, "must be text"),
        (["a"], "must be text"),
    ],
)
def test_validate_text_refuses(raw: object, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        validate_text(raw)


def test_validate_text_honours_a_custom_limit() -> None:
    assert validate_text("abcde", max_length=5) == "abcde"
    with pytest.raises(InvalidMessage, match="at most 4"):
        validate_text("abcde", max_length=4)


@pytest.mark.parametrize("name", ["a", "Ada Lovelace", "x" * 64, "<b>bold</b>"])
def test_validate_user_name_accepts(name: str) -> None:
    assert validate_user_name(name) == name


@pytest.mark.parametrize("name", [None, "", "   ", "x" * 65, "tab\there", "nul\x00"])
def test_validate_user_name_refuses(name: object) -> None:
    with pytest.raises(InvalidMessage):
        validate_user_name(name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("team", "team"), (" Book club_1-a ", "Book club_1-a"), ("x" * 64, "x" * 64)],
)
def test_validate_group_name_accepts_and_trims(raw: str, expected: str) -> None:
    assert validate_group_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "required"),
        ("  ", "required"),
        ("x" * 65, "at most 64"),
        ("a/b", "only contain"),
        ("<b>", "only contain"),
        ("café", "only contain"),
    ],
)
def test_validate_group_name_refuses(raw: object, reason: str) -> None:
    with pytest.raises(InvalidGroupName, match=reason):
        validate_group_name(raw)


@pytest.mark.parametrize("raw", [None, "", "a b", "x" * 129, "é", 5])
def test_validate_connection_id_refuses(raw: object) -> None:
    with pytest.raises(InvalidMessage):
        validate_connection_id(raw)


def test_validate_connection_id_accepts_service_ids() -> None:
    assert validate_connection_id("Ab-3_xY.z") == "Ab-3_xY.z"


def test_parse_admins_splits_and_trims() -> None:
    assert parse_admins(" a, b ,,c ") == frozenset({"a", "b", "c"})
    assert parse_admins(None) == frozenset()
