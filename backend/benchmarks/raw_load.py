"""A light load generator: keep-alive HTTP/1.1 connections on one asyncio loop, raw bytes.

``bench_api``'s default clients are httpx clients in threads, as a Python caller would use
the API. On a 2-core machine they cost the load generator about as much CPU per request as the
server spends, and 32 threads fight over one GIL: at 32 clients the figures then measure the
load generator as much as the server. This one sends the same request, serialised once by
httpx, over N connections of one event loop, and reads each answer by its ``Content-Length``:
a few tens of microseconds per request, so that the server is what limits the throughput.
"""

import asyncio
import time

import httpx


def raw_request(request: httpx.Request) -> bytes:
    """``request`` as HTTP/1.1 bytes: request line, httpx's headers, body."""
    body = request.read()
    head = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
    head += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> None:
    """Send one request and read its whole answer.

    Raises:
        RuntimeError: an answer that is not a 200 with a ``Content-Length``.
    """
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)[1]
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError(f"answer without Content-Length: {head!r}")
    body = await reader.readexactly(length)
    if status != b"200":
        raise RuntimeError(f"HTTP {status.decode()}: {body[:300]!r}")


async def _client(
    url: httpx.URL, payload: bytes, remaining: list[int], latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        for _ in range(3):  # warm-up, as the httpx clients do
            await _exchange(reader, writer, payload)
        while remaining[0] > 0:
            remaining[0] -= 1
            begin = time.perf_counter()
            await _exchange(reader, writer, payload)
            latencies.append(time.perf_counter() - begin)
    finally:
        writer.close()


async def _drive(url: httpx.URL, payload: bytes, concurrency: int, count: int) -> list[float]:
    latencies: list[float] = []
    remaining = [count]
    await asyncio.gather(*(_client(url, payload, remaining, latencies) for _ in range(concurrency)))
    return latencies


def drive_raw(request: httpx.Request, concurrency: int, count: int) -> list[float]:
    """Send ``request`` ``count`` times from ``concurrency`` connections; each latency (s).

    Each connection first sends 3 warm-up requests, not timed.

    Raises:
        RuntimeError: an answer other than 200.
    """
    return asyncio.run(_drive(request.url, raw_request(request), concurrency, count))
