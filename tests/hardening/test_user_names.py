"""User names with characters that URLs escape reach the right user.

A private message goes to ``/api/hubs/chat/users/<name>/:send`` with a token whose audience is
that URL. Before the host sent the path exactly as signed, yarl re-escaped it on the way out
(``%27`` → ``'``, ``%3D`` → ``=``) and the service refused the token: O'Brien could not write
privately, nor receive a copy of what they sent. And the service's REST routes used aiohttp's
default pattern ``[^{}/]+``, so a user named ``{brace}`` got 404.
"""

from __future__ import annotations

import aiohttp
import pytest

from tests.hardening.chat_client import ChatClient
from tests.hardening.conftest import StackFactory

NAMES = ["O'Brien", "a=b&c?d#e", "100% sure", "Zoë 😀", "<b>bold</b>", "slash/and\\back",
         "(paren)[brack]", "plus+comma,semi;colon:at@", "{brace}"]


@pytest.mark.parametrize("name", NAMES)
async def test_private_messages_reach_users_with_escaped_names(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, name: str
) -> None:
    """Both directions work, and the sender gets its own copy."""
    stack = await make_local_stack()
    odd = await ChatClient.connect(http, stack.api_url, name)
    plain = await ChatClient.connect(http, stack.api_url, "plain")
    # Presence is settled by the connected functions, after the handshake: wait for both.
    await odd.wait_for(lambda c: {name, "plain"} <= {
        r.arguments[0].get("user") for r in c.received
        if r.target == "userJoined" and r.arguments and isinstance(r.arguments[0], dict)})
    await odd.invoke("sendToUser", "plain", f"from {name}")
    await plain.wait_for_message(f"from {name}")
    await odd.wait_for_message(f"from {name}")  # the sender's own copy, sent to its user id
    await plain.invoke("sendToUser", name, f"to {name}")
    await odd.wait_for_message(f"to {name}")
    await odd.close()
    await plain.close()
