"""Official clients for the chat app, ready once the app has recorded their connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .node_client import Event, NodeClient
from .stack import RunningStack

__all__ = ["LISTEN", "ChatClient", "client", "online_view"]

LISTEN = ("newMessage,newConnection,history,onlineUsers,userJoined,userLeft,userUpdated,"
          "usersChanged")
"""Every server target of the chat's hub contract."""


def online_view(events: Iterable[Event]) -> set[str]:
    """Who is online for a page that has received ``events``, by content/people.js's rules: a
    change or list entry older than what the page knows of that user is ignored, and an
    ``onlineUsers`` list drops those it does not name unless the page heard of them since this
    connection opened (the list may trail the latest changes)."""
    state: dict[str, tuple[bool, int, int]] = {}  # user -> (online, version, epoch)
    epoch = 0

    def change(user: str, version: int, online: bool, *, listed: bool = False) -> None:
        known = state.get(user, (False, -1, 0))[1]
        if version > known or (listed and version >= known):
            state[user] = (online, version, epoch)

    for event in events:
        if event.get("type") in ("started", "reconnected"):
            epoch += 1
        if event.get("type") != "message" or not event.get("args"):
            continue
        target, value = event["target"], event["args"][0]
        if target == "onlineUsers":
            listed = {entry[0]: entry[2] for entry in value["users"]}
            for user, (online, version, heard) in list(state.items()):
                if user not in listed and online and heard < epoch:
                    state[user] = (False, version, heard)
            for user, version in listed.items():
                change(user, version, True, listed=True)
        elif target in ("userJoined", "userUpdated", "userLeft"):
            change(value["user"], value["version"], target != "userLeft")
        elif target == "usersChanged":
            for item in value:
                change(item["user"], item["version"], item.get("connections", 0) > 0)
    return {user for user, (online, _, _) in state.items() if online}


class ChatClient(NodeClient):
    """An official client that is ready when its ``connected`` function has finished.

    ``start()`` resolves when the handshake is done, while the app may still be recording the
    connection; the ``history`` it sends arrives only after presence has recorded it.
    """

    async def start(self) -> ChatClient:
        await super().start()
        await self.wait_message("history")
        return self

    async def wait_online(self, expected: Callable[[set[str]], bool],
                          timeout: float | None = None) -> set[str]:
        """Until the page's view of who is online (:func:`online_view`) is as ``expected``."""
        options = {} if timeout is None else {"timeout": timeout}
        await self.wait_for(lambda _: expected(online_view(self.events)), **options)
        return online_view(self.events)


def client(stack: RunningStack, name: str, **options: Any) -> ChatClient:
    return ChatClient(stack.api_url, name=name, listen=LISTEN, **options)
