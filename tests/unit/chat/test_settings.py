"""The CHAT_* app settings, read once into a frozen Settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chat import SETTING_NAMES, Settings, identities_are_verified, settings_from
from chat.settings import parse_admins, parse_positive_int
from chat_io.rest import Service


def test_settings_from_an_empty_environment_are_the_defaults() -> None:
    assert settings_from({}) == Settings()
    assert Settings().max_message_bytes == 4000 and Settings().send_burst == 50


def test_settings_from_reads_every_chat_setting() -> None:
    settings = settings_from({
        "CHAT_MAX_MESSAGE_LENGTH": "10", "CHAT_MAX_MESSAGE_BYTES": "20", "CHAT_HISTORY_SIZE": "5",
        "CHAT_SEND_RATE": "6", "CHAT_SEND_BURST": "2", "CHAT_ADMINS": "root, ops",
    })
    assert settings == Settings(max_message_length=10, max_message_bytes=20, history_size=5,
                                send_rate=6, send_burst=2, admins=frozenset({"root", "ops"}))
    assert settings.is_admin("ops") and not settings.is_admin(None)


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1.5"])
def test_settings_from_names_a_bad_number(value: str) -> None:
    reason = f"CHAT_SEND_RATE must be a positive integer, got '{value}'"
    with pytest.raises(ValueError, match=reason):
        settings_from({"CHAT_SEND_RATE": value})


def test_settings_from_ignores_admins_where_anyone_can_claim_a_name() -> None:
    azure_without_auth = {"WEBSITE_SITE_NAME": "chat", "CHAT_ADMINS": "root"}
    settings = settings_from(azure_without_auth)
    assert settings.admins == frozenset() and settings.admins_ignored
    with_auth = settings_from({**azure_without_auth, "WEBSITE_AUTH_ENABLED": "True"})
    assert with_auth.admins == frozenset({"root"}) and not with_auth.admins_ignored
    assert not settings_from({"WEBSITE_SITE_NAME": "chat"}).admins_ignored


def test_identities_are_verified_off_azure_and_with_app_service_authentication() -> None:
    assert identities_are_verified({})
    assert not identities_are_verified({"WEBSITE_SITE_NAME": "x"})
    assert identities_are_verified({"WEBSITE_SITE_NAME": "x", "WEBSITE_AUTH_ENABLED": "true"})


def test_parse_helpers_blank_means_default_and_admins_are_trimmed() -> None:
    assert parse_positive_int("X", "  ", 7) == 7
    assert parse_admins(" a, b ,,c ") == frozenset({"a", "b", "c"})
    assert parse_admins(None) == frozenset()


class _Recording(dict[str, str]):
    """Settings that remember every name asked for (the app reads only the names it lists)."""

    def __init__(self, **values: str) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        self.asked.add(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self.asked.add(str(name))
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("settings are read by name, never listed")


def test_the_app_reads_only_the_settings_it_lists() -> None:
    """chat_io.environment reads just these names from the environment on each invocation."""
    values = _Recording(WEBSITE_SITE_NAME="site")  # then the auth setting is read too
    settings_from(values)
    assert values.asked == set(SETTING_NAMES)
    values = _Recording(Conn__serviceUri="https://a.example")  # then its client id is read too
    Service(values, "Conn", "chat")
    assert values.asked == set(Service.setting_names("Conn"))
