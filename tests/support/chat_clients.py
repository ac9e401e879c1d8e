"""Official clients for the chat app, ready once the app has recorded their connection."""

from __future__ import annotations

from typing import Any

from .node_client import NodeClient
from .stack import RunningStack

__all__ = ["LISTEN", "ChatClient", "client"]

LISTEN = "newMessage,newConnection,history,onlineUsers,userJoined,userLeft"
"""Every server target of the chat's hub contract."""


class ChatClient(NodeClient):
    """An official client that is ready when its ``connected`` function has finished.

    ``start()`` resolves when the handshake is done, while the app may still be recording the
    connection; the ``history`` it sends arrives only after presence has recorded it.
    """

    async def start(self) -> ChatClient:
        await super().start()
        await self.wait_message("history")
        return self


def client(stack: RunningStack, name: str, **options: Any) -> ChatClient:
    return ChatClient(stack.api_url, name=name, listen=LISTEN, **options)
