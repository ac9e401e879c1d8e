"""Reading a whole HTTP body with a size limit.

``StreamReader.read(n)`` returns what is buffered (one chunk, often 64 KB), not ``n`` bytes, so a
body is read in a loop until its end, stopping as soon as it passes the limit.
"""

from __future__ import annotations

from aiohttp import StreamReader

__all__ = ["read_limited"]


async def read_limited(stream: StreamReader, limit: int) -> bytes:
    """The whole body, or its first ``limit + 1`` bytes when it is longer (the caller refuses)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
