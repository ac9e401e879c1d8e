"""Restarts: clients reconnect on their own and the room's history is intact.

The page's own reconnect is shown in a real browser by tests/browser/test_chat_page.py
(``test_pages_reconnect_after_the_stack_restarts``); here the official client, with the same
automatic-reconnect option the page uses, rides out a restart of the service alone and of the
whole ``python -m emulator`` process, and a client joining afterwards gets the history.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ARTIFACTS
from tests.hardening.conftest import StackFactory
from tests.support.node_client import NodeClient
from tests.support.stack import RunningStack, start_stack
from tests.support.timeouts import TIMEOUT

pytestmark = [pytest.mark.node]
LISTEN = "newMessage,history"


def _texts(client: NodeClient) -> list[str]:
    return [args[0]["text"] for args in client.messages("newMessage")
            if args and isinstance(args[0], dict)]


def _history(client: NodeClient) -> list[str]:
    batches = client.messages("history")
    return [m["text"] for m in batches[-1][0]] if batches else []


async def _reconnected(client: NodeClient) -> None:
    await client.wait_for(lambda e: e["type"] == "reconnecting")
    await client.wait_for(lambda e: e["type"] == "reconnected", timeout=TIMEOUT * 2)


async def test_service_restart_clients_reconnect_and_chat(make_local_stack: StackFactory) -> None:
    """The service alone restarts: clients reconnect by themselves and chat on."""
    stack = await make_local_stack()
    async with (
        NodeClient(stack.api_url, name="ann", reconnect=True, listen=LISTEN) as ann,
        NodeClient(stack.api_url, name="bob", reconnect=True, listen=LISTEN) as bob,
    ):
        await ann.invoke("broadcast", "before the restart")
        await bob.wait_message("newMessage", lambda a: a[0]["text"] == "before the restart")
        await stack.restart_service()
        await _reconnected(ann)
        await _reconnected(bob)
        await ann.invoke("broadcast", "after the restart")
        await bob.wait_message("newMessage", lambda a: a[0]["text"] == "after the restart")
        assert _texts(bob).count("before the restart") == 1
        assert not [e for e in ann.events + bob.events if e["type"] == "closed"]
        async with NodeClient(stack.api_url, name="late", listen=LISTEN) as late:
            await late.wait_message("history")
            assert _history(late)[-2:] == ["before the restart", "after the restart"]


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def test_stack_process_restart_keeps_history(tmp_path: Path) -> None:
    """``python -m emulator`` stops and starts again on the same ports and data folder:
    clients come back on their own and a newcomer sees the history from before."""
    data, log = tmp_path / "data", ARTIFACTS / "test_stack_process_restart.stack.log"
    first = await start_stack(data_dir=data, log_path=log)
    second: RunningStack | None = None
    try:
        async with NodeClient(first.api_url, name="ann", reconnect=True, listen=LISTEN) as ann:
            for n in range(3):
                await ann.invoke("broadcast", f"kept {n}")
            assert await first.stop() == 0
            await ann.wait_for(lambda e: e["type"] == "reconnecting")
            second = await start_stack(
                data_dir=data, log_path=log, service_port=_port(first.service_url),
                extra_args=("--host-port", str(_port(first.host_url))))
            await ann.wait_for(lambda e: e["type"] == "reconnected", timeout=TIMEOUT * 2)
            await ann.invoke("broadcast", "after")
            async with NodeClient(second.api_url, name="late", listen=LISTEN) as late:
                await late.wait_message("history")
                assert _history(late)[-4:] == ["kept 0", "kept 1", "kept 2", "after"]
    finally:
        for running in (first, second):
            if running is not None:
                await running.stop()
