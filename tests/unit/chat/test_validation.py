"""What clients send: text by characters and bytes, names, groups, ids."""

from __future__ import annotations

import pytest

from chat import (
    InvalidGroupName,
    InvalidMessage,
    validate_client_message_id,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)
from chat.validation import is_hidden_character


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
        ("x" * 2001, "at most 2000 characters"),
        ("😀" * 1001, "at most 4000 bytes long; this one has 4004"),
        ("é" * 2001, "at most 2000 characters"),
        ("a\ud800b", "valid Unicode"),
        (None, "must be text"),
        (42, "must be text"),
        (["a"], "must be text"),
    ],
)
def test_validate_text_refuses(raw: object, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        validate_text(raw)


def test_validate_text_counts_bytes_of_utf8_after_trimming() -> None:
    assert validate_text(" " + "é" * 2000 + " ") == "é" * 2000  # 4,000 bytes: the limit
    assert validate_text("😀" * 1000) == "😀" * 1000
    with pytest.raises(InvalidMessage, match="at most 10 bytes"):
        validate_text("ééééééé", max_length=100, max_bytes=10)


def test_validate_text_honours_a_custom_length() -> None:
    assert validate_text("abcde", max_length=5) == "abcde"
    with pytest.raises(InvalidMessage, match="at most 4"):
        validate_text("abcde", max_length=4)


@pytest.mark.parametrize("name", ["a", "Ada Lovelace", "x" * 64, "<b>bold</b>", "Zoë 😀",
                                  "👩‍💻 dev", "می‌خواهم", "O'Brien", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"])
def test_validate_user_name_accepts(name: str) -> None:
    assert validate_user_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (None, "required"), ("", "required"), ("   ", "only spaces"),
        ("\u3000\u2003", "only spaces"),
        ("x" * 65, "at most 64"), ("tab\there", "control"), ("nul\x00", "control"),
        ("evil\u202egnp.exe", "invisible"), ("\u202aleft", "invisible"),
        ("\u2066isolate\u2069", "invisible"), ("mark\u200f", "invisible"),
        ("zero\u200bwidth", "invisible"), ("\ufeffbom", "invisible"),
        ("line\u2028sep", "invisible"),
        (" Ada", "start or end"), ("Ada ", "start or end"),
    ],
)
def test_validate_user_name_refuses(name: object, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        validate_user_name(name)


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_is_hidden_character_covers_every_bidirectional_control(char: str) -> None:
    assert is_hidden_character(char)


@pytest.mark.parametrize("char", ["\u200c", "\u200d", "\U000e0067", "a", "é", " "])
def test_is_hidden_character_keeps_joiners_and_visible_text(char: str) -> None:
    assert not is_hidden_character(char)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("team", "team"), (" Book club_1-a ", "Book club_1-a"), ("x" * 64, "x" * 64)],
)
def test_validate_group_name_accepts_and_trims(raw: str, expected: str) -> None:
    assert validate_group_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(None, "required"), ("  ", "required"), ("x" * 65, "at most 64"), ("a/b", "only contain"),
     ("<b>", "only contain"), ("café", "only contain")],
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


@pytest.mark.parametrize("raw", ["a", "3f2b-9c_1", "x" * 64])
def test_validate_client_message_id_accepts(raw: str) -> None:
    assert validate_client_message_id(raw) == raw


@pytest.mark.parametrize("raw", [None, "", "x" * 65, "a b", "é", 7, "a/b"])
def test_validate_client_message_id_refuses(raw: object) -> None:
    with pytest.raises(InvalidMessage, match="client message id"):
        validate_client_message_id(raw)
