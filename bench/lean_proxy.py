"""A lean latency-adding proxy: one asyncio event loop, kept-alive upstream connections.

``common.DelayProxy`` spends a thread and an ``http.server`` handler per request; on a
2-core machine that CPU slows a concurrent client more than the latency it emulates does,
while a one-process-per-tag loop hardly notices. This proxy does the same job (sleep
``delay`` before forwarding, count requests and body bytes in ``traffic``) on one event loop
in one thread, with a pool of kept-alive connections to the upstream registry, so its own cost
is negligible next to the client's. Plain HTTP/1.1 on loopback only, as the benchmarks need.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from common import Traffic

HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"content-length"})


class LeanProxy:
    """Same interface as ``common.DelayProxy``: ``host``, ``delay``, ``traffic``, a context."""

    def __init__(self, upstream: str, delay: float) -> None:
        self.upstream, self.delay, self.traffic = upstream, delay, Traffic()
        self._loop = asyncio.new_event_loop()
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._server: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        self.host = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _start(self) -> Any:
        return await asyncio.start_server(self._client, "127.0.0.1", 0, backlog=512)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.readexactly(1)
            if first == b"\x16":  # a TLS ClientHello: answer in plain HTTP, as http.server does,
                # so that clients trying HTTPS first (skopeo) fall back to HTTP at once
                writer.write(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            head = first
            while True:
                head += await reader.readuntil(b"\r\n\r\n")
                lines = head[:-4].split(b"\r\n")
                method, path, _ = lines[0].split(b" ", 2)
                headers = [tuple(line.split(b":", 1)) for line in lines[1:]]
                length = next((int(v) for k, v in headers if k.lower() == b"content-length"), 0)
                body = await reader.readexactly(length) if length else b""
                await asyncio.sleep(self.delay)
                status, reply_head, data = await self._forward(method, path, headers, body)
                writer.write(reply_head)
                if method != b"HEAD":
                    writer.write(data)
                await writer.drain()
                self.traffic.add(method.decode(), path.decode(), status, len(data))
                head = b""
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def _forward(
        self, method: bytes, path: bytes, headers: list[tuple[bytes, ...]], body: bytes
    ) -> tuple[int, bytes, bytes]:
        request = b"%s %s HTTP/1.1\r\n" % (method, path)
        for key, value in headers:
            if key.lower() not in HOP:
                request += key + b":" + value + b"\r\n"
        request += b"Content-Length: %d\r\n\r\n" % len(body) + body
        for attempt in (1, 2):
            if self._idle:
                up_reader, up_writer = self._idle.pop()
            else:
                host, port = self.upstream.rsplit(":", 1)
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
            try:
                up_writer.write(request)
                head = await up_reader.readuntil(b"\r\n\r\n")
                lines = head[:-4].split(b"\r\n")
                status = int(lines[0].split(b" ", 2)[1])
                fields = [tuple(line.split(b":", 1)) for line in lines[1:]]
                data = await _body(up_reader, method, status, fields)
            except (asyncio.IncompleteReadError, ConnectionError):
                up_writer.close()
                if attempt == 2:
                    raise
                continue
            self._idle.append((up_reader, up_writer))
            out = lines[0] + b"\r\n"
            for key, value in fields:
                if key.lower() not in HOP:
                    out += key + b":" + value + b"\r\n"
            length = len(data)
            if method == b"HEAD":  # the upstream's own Content-Length describes the GET body
                length = next((int(v) for k, v in fields if k.lower() == b"content-length"), 0)
            out += b"Content-Length: %d\r\n\r\n" % length
            return status, out, data
        raise AssertionError("unreachable")

    def __enter__(self) -> LeanProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            for _, writer in self._idle:
                writer.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


async def _body(
    reader: asyncio.StreamReader, method: bytes, status: int, fields: list[tuple[bytes, ...]]
) -> bytes:
    if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
        return b""
    values = {k.strip().lower(): v.strip() for k, v in fields}
    if values.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    return await reader.readexactly(int(values.get(b"content-length", b"0")))
