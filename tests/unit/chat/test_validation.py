from __future__ import annotations

import pytest

from chat import InvalidMessage, validate_text, validate_user_name


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
