"""The pure pieces behind the host's defences: page origins, store error sentences, escaped
tracebacks, once-only failure logs, the durable client payload with its key."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from emulator.functions.durable_store import describe_store_error
from emulator.functions.gate import host_page_origins
from emulator.functions.keys import load_or_create_keys
from emulator.functions.orchestrations import client_payload
from emulator.logs import OnceLog, safe_traceback


@pytest.mark.parametrize(("url", "cors", "expected"), [
    ("http://localhost:7071", (), ("http://localhost:7071", "http://127.0.0.1:7071",
                                   "http://[::1]:7071")),
    ("http://127.0.0.1:9", ("http://page.local",), ("http://localhost:9", "http://127.0.0.1:9",
                                                    "http://[::1]:9", "http://page.local")),
    ("http://devbox.lan:7071", (), ("http://devbox.lan:7071",)),
    (None, ("*",), ("*",)),
])
def test__host_page_origins(url: str | None, cors: tuple[str, ...],
                            expected: tuple[str, ...]) -> None:
    assert host_page_origins(url, cors) == expected


def _error(name: str, message: str) -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(("name", "plain"), [
    ("SQLITE_FULL", "cannot write /d/e.sqlite3: the disk is full"),
    ("SQLITE_BUSY", "/d/e.sqlite3 is locked by another process (waited 2 s)"),
    ("SQLITE_READONLY_DBMOVED", "/d/e.sqlite3 is read-only"),
    ("SQLITE_NOTADB", "/d/e.sqlite3 is corrupt or not a database"),
    ("SQLITE_IOERR_WRITE", "cannot use /d/e.sqlite3"),
])
def test_store_errors_are_described_in_plain_words(name: str, plain: str) -> None:
    text = describe_store_error(_error(name, "sqlite says"), Path("/d/e.sqlite3"), 2.0)
    assert text.startswith(plain) and text.endswith(f"({name}: sqlite says)")


def test_safe_traceback_escapes_exception_lines_and_keeps_the_chain() -> None:
    def fail(text: str) -> None:
        raise ValueError(text)

    try:
        try:
            fail("x\r\n12:00:00 ERROR forged\x1b[2J")
        except ValueError as cause:
            raise RuntimeError("wrapped") from cause
    except RuntimeError as error:
        text = safe_traceback(error)
    assert "\r" not in text and "\x1b" not in text
    assert "ValueError: x\\x0d\\x0a12:00:00 ERROR forged\\x1b[2J" in text
    assert "direct cause" in text and text.endswith("RuntimeError: wrapped")
    assert text.count("Traceback (most recent call last):") == 2 and "in fail" in text


def test_once_log_exception_gives_the_traceback_once_then_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.once")
    once = OnceLog()
    with caplog.at_level(logging.INFO, logger="tests.once"):
        for _ in range(3):
            try:
                raise KeyError("k")
            except KeyError as error:
                once.exception(logger, "f:KeyError", error, "Executed %s (Failed)", "f")
    levels = [r.levelname for r in caplog.records]
    assert levels == ["ERROR", "INFO", "INFO"]
    assert "Traceback" in caplog.records[0].getMessage()
    assert caplog.records[1].getMessage() == (
        "Executed f (Failed): KeyError: 'k' (traceback logged once before)")


def test_client_payload_carries_the_webhook_key_and_the_rpc_base() -> None:
    payload = json.loads(client_payload("http://h:1", "Hub", None, "code=k",
                                        "http://h:1/runtime/webhooks/durabletask/rpc/s/"))
    assert payload["requiredQueryStringParameters"] == "code=k"
    assert payload["rpcBaseUrl"] == "http://h:1/runtime/webhooks/durabletask/rpc/s/"
    assert payload["baseUrl"] == "http://h:1/runtime/webhooks/durabletask"
    urls = [*payload["creationUrls"].values(),
            *(v for k, v in payload["managementUrls"].items() if k != "id")]
    assert all(url.endswith("code=k") for url in urls)


def test_keys_file_gets_missing_system_keys_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"masterKey": "m", "systemKeys": {"signalr_extension": "s"}}))
    store = load_or_create_keys(path, lambda: "new")
    assert dict(store.system_keys) == {"signalr_extension": "s", "durabletask_extension": "new"}
    assert json.loads(path.read_text())["systemKeys"]["durabletask_extension"] == "new"
    assert load_or_create_keys(path, lambda: "other").system_keys["durabletask_extension"] == "new"
