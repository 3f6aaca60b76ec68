"""Structured application logs (JSON lines), with identity codes masked.

Every record passes ``mask_codes``: anything shaped like a USCC or a citizen ID, in any
spelling the gateway accepts as one (full-width, lower case, whitespace inside, also
whitespace as a message quotes it: ``\\t``, ``\\u0085``, ``\\x1c``), keeps
its division code (characters 1-6 of an ID, 3-8 of a USCC) and last character and is
starred in between, whatever logged it (our code, SQLAlchemy, uvicorn). Request lines
carry method, path, status, duration, consumer department and client, never a body.
Other values are not written on purpose; an unexpected error's traceback may still quote
one (e.g. a source column whose type does not match the catalog), so keep logs at the
platform's protection level.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import unicodedata
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Whitespace as a log line may quote it: raw, or escaped the way a message writes a string
# (graphql-core's error messages print a literal as GraphQL, ``"9142\t0103..."``; Python's
# repr writes ``\x85``; JSON ``\u3000``), with any number of backslashes (an escape quoted
# again). A code written with a tab inside is accepted by the gateway (normalize drops it).
_ESCAPE = r"\\+(?:[tnrfvb]|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|U[0-9A-Fa-f]{8})"
_GAP = rf"(?:\s|{_ESCAPE})*"


def _spaced(*parts: str) -> str:
    """A pattern of single-character parts that may be separated by whitespace: the gateway
    accepts a code with whitespace anywhere inside (policies.codes.normalize)."""
    return _GAP.join(parts)


_USCC_CHAR = "[0-9A-HJ-NPQRTUWXY]"  # GB 32100-2015: no I, O, Z, S, V
# A code starts where no letter or digit precedes it, or right after an escape sequence
# (``\t9142...``: the ``t`` of the escape is not part of a longer word).
_EDGE_BEFORE = (
    r"(?:(?<![0-9A-Z])|(?<=\\[tnrfvb])|(?<=\\x[0-9A-Fa-f]{2})|(?<=\\u[0-9A-Fa-f]{4})"
    r"|(?<=\\U[0-9A-Fa-f]{8}))"
)
_EDGE_AFTER = r"(?![0-9A-Z])"
_CITIZEN_ID = re.compile(
    _EDGE_BEFORE + f"({_spaced(*['[0-9]'] * 6)})" + _GAP + _spaced(*["[0-9]"] * 11)
    + _GAP + "([0-9X])" + _EDGE_AFTER,
    re.IGNORECASE,
)  # fmt: skip
_LEGACY_ID = re.compile(
    _EDGE_BEFORE + f"({_spaced(*['[0-9]'] * 6)})" + _GAP + _spaced(*["[0-9]"] * 8)
    + _GAP + "([0-9])" + _EDGE_AFTER,
    re.IGNORECASE,
)  # fmt: skip
_USCC = re.compile(
    _EDGE_BEFORE + f"({_spaced(*[_USCC_CHAR] * 2, *['[0-9]'] * 6)})" + _GAP
    + _spaced(*[_USCC_CHAR] * 9) + _GAP + f"({_USCC_CHAR})" + _EDGE_AFTER,
    re.IGNORECASE,
)  # fmt: skip


def mask_codes(text: str) -> str:
    """``text`` with every identity code masked, in every spelling the gateway accepts as
    a code (policies.codes.normalize: full-width forms folded by NFKC, whitespace anywhere,
    any case). The text is NFKC-normalised first, so a code written ``９１４２…`` or
    ``91420103ma0000015t`` or ``9142 0103 MA00 0001 5T`` is found; a masked code is
    written in its normal form: division code, stars, last character (GB 11643-1999,
    GB 32100-2015 layouts)."""
    text = unicodedata.normalize("NFKC", text)
    text = _CITIZEN_ID.sub(lambda m: _compact(m.group(1)) + "*" * 11 + m.group(2).upper(), text)
    text = _USCC.sub(_mask_uscc, text)
    return _LEGACY_ID.sub(lambda m: _compact(m.group(1)) + "*" * 8 + m.group(2), text)


def _compact(text: str) -> str:
    return "".join(re.sub(_ESCAPE, "", text).split()).upper()


def _mask_uscc(match: re.Match[str]) -> str:
    """Organs of state (category 11: the departments themselves) are public; others masked."""
    code = _compact(match.group(0))
    if code.startswith("11"):
        return code
    return _compact(match.group(1)) + "*" * 9 + match.group(2).upper()


def _masked(value: Any) -> Any:
    """Mask every string inside a log entry before it is encoded: NFKC could turn a
    full-width quote into a JSON quote if the encoded line were normalised instead."""
    if isinstance(value, str):
        return mask_codes(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_text(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(_masked(json.loads(json.dumps(entry, default=str))), ensure_ascii=False)


def _utc_text(seconds: float) -> str:
    """Log times are UTC and say so, whatever the server's TZ (README, Time)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
