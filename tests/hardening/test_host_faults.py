"""Faults of the Functions host, seen from chat clients.

The service and the host run in this process (tests/hardening/local_stack.py) so the host alone
can be stopped, replaced by a listener that never answers, and started again on its port.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.hardening.chat_client import ChatClient, HubError
from tests.hardening.conftest import StackFactory

UPSTREAM_TIMEOUT = 2.0


async def _broadcast_error(client: ChatClient, text: str) -> str:
    """The invocation's error; fails the test if no error arrives within 3 upstream timeouts."""
    with pytest.raises(HubError) as caught:
        await client.invoke("broadcast", text, timeout=UPSTREAM_TIMEOUT * 3)
    return str(caught.value)


async def test_host_stopped_invoke_fails_then_chat_resumes(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """With the host down the sender gets an error, stays connected, and chats once it is back."""
    stack = await make_local_stack(upstream_timeout=UPSTREAM_TIMEOUT)
    ann = await ChatClient.connect(http, stack.api_url, "ann")
    bob = await ChatClient.connect(http, stack.api_url, "bob")
    await ann.invoke("broadcast", "before")
    await bob.wait_for_message("before")

    await stack.stop_host()
    error = await _broadcast_error(ann, "while down")
    assert error.startswith("Invocation failed"), error

    await stack.start_host()
    await ann.invoke("broadcast", "after")
    await bob.wait_for_message("after")
    assert not ann.closed.is_set() and not bob.closed.is_set()
    assert "while down" not in [m["text"] for m in bob.messages()]
    await ann.close()
    await bob.close()


async def test_host_hung_invoke_fails_within_upstream_timeout_then_chat_resumes(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A host that never answers: the invoke fails after the upstream timeout, not forever."""
    stack = await make_local_stack(upstream_timeout=UPSTREAM_TIMEOUT)
    ann = await ChatClient.connect(http, stack.api_url, "ann")
    bob = await ChatClient.connect(http, stack.api_url, "bob")

    await stack.hang_host()
    loop = asyncio.get_running_loop()
    started = loop.time()
    error = await _broadcast_error(ann, "into the void")
    waited = loop.time() - started
    assert "Invocation failed" in error and "timed out" in error, error
    assert waited >= UPSTREAM_TIMEOUT * 0.9, "the service gave up before its own timeout"
    assert stack.hung, "the request did reach the hung host"

    await stack.unhang_host()
    await stack.start_host()
    await ann.invoke("broadcast", "back again")
    await bob.wait_for_message("back again")
    assert not ann.closed.is_set() and not bob.closed.is_set()
    await ann.close()
    await bob.close()
