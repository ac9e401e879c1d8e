"""Client transports: thin aiohttp handlers that feed a session's core and write what it queues."""

from .http_common import handle_post
from .long_polling import handle_delete, handle_poll, start_long_polling
from .sse import handle_sse
from .websocket import handle_websocket

__all__ = [
    "handle_delete",
    "handle_poll",
    "handle_post",
    "handle_sse",
    "handle_websocket",
    "start_long_polling",
]
