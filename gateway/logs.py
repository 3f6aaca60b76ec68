"""Structured application logs (JSON lines), with identity codes masked.

Every record passes ``mask_codes``: anything shaped like a USCC or a citizen ID keeps
its division code (characters 1-6 of an ID, 3-8 of a USCC) and last character and is
starred in between, whatever logged it (our code, SQLAlchemy, uvicorn). Request lines
carry method, path, status, duration, consumer department and client, never a body.
Other values are not written on purpose; an unexpected error's traceback may still quote
one (e.g. a source column whose type does not match the catalog), so keep logs at the
platform's protection level.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CITIZEN_ID = re.compile(r"(?<![0-9A-Z])(\d{6})\d{11}([0-9Xx])(?![0-9A-Z])")
_LEGACY_ID = re.compile(r"(?<![0-9A-Z])(\d{6})\d{8}(\d)(?![0-9A-Z])")
_USCC = re.compile(
    r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}\d{6})[0-9A-HJ-NPQRTUWXY]{9}([0-9A-HJ-NPQRTUWXY])(?![0-9A-Z])"
)


def mask_codes(text: str) -> str:
    text = _CITIZEN_ID.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    text = _USCC.sub(_mask_uscc, text)
    return _LEGACY_ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)


def _mask_uscc(match: re.Match[str]) -> str:
    """Organs of state (category 11: the departments themselves) are public; others masked."""
    if match.group(0).startswith("11"):
        return match.group(0)
    return match.group(1) + "*" * 9 + match.group(2)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_codes(json.dumps(entry, ensure_ascii=False, default=str))


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class RequestLog:
    """Pure ASGI middleware: one line per HTTP request, after it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("govshare.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._line(scope, status[0], time.perf_counter() - started)

    def _line(self, scope: Scope, status: int, seconds: float) -> None:
        who = scope.get("state", {}).get("consumer")
        fields = {"method": scope["method"], "path": scope["path"], "status": status,
                  "ms": round(seconds * 1000, 2), "consumer": getattr(who, "department", None),
                  "client": getattr(who, "client_id", None)}  # fmt: skip
        self.log.info("request", extra={"fields": fields})
