"""Real local services for connector tests: an ASGI app under uvicorn on 127.0.0.1.

``serving(app)`` runs it in a thread with its own event loop (so it outlives each test's
loop and can be shared per module) on a free port, and yields its base URL.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    # IPPROTO_TCP given explicitly: asyncio sets TCP_NODELAY on accepted connections only
    # when the listening socket's proto says TCP (socket.socket() leaves it 0), and without
    # it every keep-alive request waits ~40 ms (Nagle's algorithm against delayed ACKs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11", loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the local REST service did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.force_exit = True  # requests still hanging (a slow-service test) are not awaited
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
