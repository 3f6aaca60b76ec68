"""The HTTP/1.1 protocol the gateway serves with: uvicorn's httptools protocol with a limit
on the request head (request line and headers), which uvicorn does not bound.

Without it, one request with a 30 MB header value (or a million small headers, or a
30 MB URL) held the event loop ~0.45 s and its memory while the parser accumulated it,
and every other request waited; a URL past the parser's own limit got a vague
"Invalid HTTP request received.". Here the bytes of a head are counted as they arrive
and, past ``max_head_bytes``, the request is answered 431 (RFC 6585 section 5) with the
gateway's error shape naming the limit, and the connection is closed.
"""

from __future__ import annotations

import asyncio

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from errors import HeadersTooLarge
from resolvers.limits import OperationLimits, too_complex


class BoundedHeadProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` refusing a head longer than ``max_head_bytes`` (bytes).

    The count runs from the first byte of a request to the end of its headers, so the
    parser never holds more than ``max_head_bytes`` plus one read of head."""

    max_head_bytes: int = OperationLimits.max_head_bytes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._in_head = True  # the first bytes of a connection begin a request's head

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse_head()

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0  # a keep-alive connection's next request

    def _refuse_head(self) -> None:
        refusal = too_complex("max_head_bytes", self.max_head_bytes, "bytes in the request line and headers")
        detail = {k: v for k, v in refusal.extensions.items() if k != "code"}
        error = HeadersTooLarge(refusal.message, **detail)
        body = orjson.dumps({"errors": [{"message": error.message, "extensions": error.extensions}]})
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"cache-control: no-store\r\nconnection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
        )
        self.transport.write(head + body)
        self.transport.close()


def bounded_head_protocol(limits: OperationLimits) -> type[BoundedHeadProtocol]:
    """The protocol class for uvicorn's ``http`` option, refusing heads past ``limits``."""
    return type("BoundedHead", (BoundedHeadProtocol,), {"max_head_bytes": limits.max_head_bytes})
