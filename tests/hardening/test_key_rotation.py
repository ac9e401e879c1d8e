"""Rotating the SignalR access key without downtime (README "Rotating keys").

The service holds two keys, as Azure's primary and secondary: it accepts tokens signed with
either and signs every upstream call with both. The app moves from the old key to the new one
with a host restart, chatting before and after; once the old key is gone from the service, a
host still on it is refused.
"""

from __future__ import annotations

import aiohttp
import pytest

from tests.hardening.chat_client import ChatClient, HubError
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import with_access_key

OLD = "old-access-key-0123456789abcdefghijklmnop"
NEW = "new-access-key-0123456789abcdefghijklmnop"


async def _chat(http: aiohttp.ClientSession, api_url: str, text: str) -> None:
    ann = await ChatClient.connect(http, api_url, "ann")
    bob = await ChatClient.connect(http, api_url, "bob")
    await ann.invoke("broadcast", text)
    await bob.wait_for_message(text)
    await ann.close()
    await bob.close()


async def test_key_rotation_chat_works_on_old_and_new_key(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """Service on (new, old): a host on the old key chats, then on the new key."""
    stack = await make_local_stack(access_keys=(NEW, OLD), start_host=False)
    await stack.start_host(with_access_key(stack.host_config, OLD, stack.service_port))
    await _chat(http, stack.api_url, "signed with the old key")
    await stack.stop_host()
    await stack.start_host(with_access_key(stack.host_config, NEW, stack.service_port))
    await _chat(http, stack.api_url, "signed with the new key")


async def test_key_rotation_retired_key_is_refused(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """Service on the new key only: a host still on the old key cannot connect anyone."""
    stack = await make_local_stack(access_keys=(NEW,), start_host=False)
    await stack.start_host(with_access_key(stack.host_config, OLD, stack.service_port))
    with pytest.raises(HubError, match="401"):
        await ChatClient.connect(http, stack.api_url, "ann")
