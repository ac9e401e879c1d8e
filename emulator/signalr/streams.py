"""Reading a whole HTTP body with a size limit.

``StreamReader.read(n)`` returns what is buffered (one chunk, often 64 KB), not ``n`` bytes, so a
body is read in a loop until its end, stopping as soon as it passes the limit.
"""

from __future__ import annotations

import asyncio

from aiohttp import StreamReader

from ..errors import RequestTimeout

__all__ = ["read_limited"]


async def read_limited(stream: StreamReader, limit: int, timeout: float | None = None) -> bytes:
    """The whole body, or its first ``limit + 1`` bytes when it is longer (the caller refuses).

    RequestTimeout (408) when it takes longer than ``timeout``: a client that trickles a body
    must not hold its connection (and the buffer) for good.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while size <= limit:
                chunk = await stream.read(limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {timeout:.0f} s") from None
    return b"".join(chunks)
