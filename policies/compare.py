"""Compare / verify (比对验证, Zhejiang art. 27 (一)): the rules that decide "match".

A consumer's claim about an item and the stored value are both reduced to a canonical
byte string (``canonical``) and compared with ``hmac.compare_digest`` (``matches``), so
the time a comparison takes does not depend on where the first differing byte is. Only
``match`` or ``mismatch`` ever leaves: never the stored value.

Canonical forms, by the item's catalog ``type``:

- ``date``: the calendar date, whatever the zero padding or separator
  (``2020-01-05`` == ``2020-1-5`` == ``2020/1/5`` == ``2020年1月5日``);
- ``integer`` / ``number``: the decimal value (``1000`` == ``1000.00`` == ``1e3``);
  NaN and infinities are never equal to anything;
- ``boolean``: true / false (``true``, ``1``, ``是`` ... and their opposites);
- ``datetime``: the instant (ISO 8601; an input without offset is China time,
  as everywhere in the gateway);
- ``string``: the text after the item's ``normalize`` steps, in catalog order:
  ``nfkc`` (Unicode NFKC: full-width forms to half-width ...), ``strip`` (every run of
  whitespace of any kind, U+3000 included, made one space, none at either end), ``upper``.

A claim that cannot be read as the item's type (``2020-13-45`` for a date) is a mismatch,
never an error: the consumer learns nothing it did not send. A blank value (empty or
whitespace only) is no value, like NULL (as ``''`` is NULL in Oracle): a blank claim never
matches, not even a blank stored value, so no claim tells a stored "" from a missing one.

The subject's key item is never claimed (``claim_problem``): it holds the subject's own
code, so a claim of it would match exactly when the subject is on record, which
``compare_disclosure: match_only`` exists to hide. The canonical forms are kept
short whatever the input (a number is its sign, digits and exponent, not its expansion),
and claims are limited to ``MAX_CLAIM_CHARS`` characters by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from decimal import Decimal
from typing import Any, Final

from errors import BadRequest
from policies.catalog import Item, Resource
from policies.chinatime import as_utc, parse_instant
from policies.share import Share

MAX_CLAIM_CHARS: Final = 1000  # longest claim a compare request may carry
_NOTHING: Final = b"\x00none"  # the canonical form of a missing stored value: no claim has it
_UNREADABLE: Final = b"\x00unreadable"  # a claim that is not a value of the item's type
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TRUE = frozenset({"true", "1", "yes", "y", "t", "是", "真"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", "假"})


def canonical(value: Any, item: Item) -> bytes:
    """The bytes a value of ``item`` is compared as (module docstring). ``None`` (nothing
    stored) and values that are not of the item's type get forms no real value has."""
    if value is None or (isinstance(value, str) and (not value or value.isspace())):
        return _NOTHING  # a blank value is no value (module docstring)
    reader = _READERS.get(item.type, _text)
    try:
        return reader(value, item)
    except (ValueError, ArithmeticError):  # decimal's InvalidOperation and Overflow included
        return _UNREADABLE


def matches(claim: str, stored: Any, item: Item) -> bool:
    """Whether a claim matches the stored value, compared in constant time on the canonical
    bytes (``hmac.compare_digest``). An unreadable claim or an empty store never matches."""
    claimed, held = canonical(claim, item), canonical(stored, item)
    equal = hmac.compare_digest(_keyed(claimed), _keyed(held))
    return equal and claimed not in (_NOTHING, _UNREADABLE)


def claim_problem(resource: Resource, name: str) -> str | None:
    """Why item ``name`` of ``resource`` may not be claimed at all, or None. The key item is
    the subject's own code (sent as ``subject``): its claim would only tell whether the
    subject is on record (module docstring). The caller answers 400 naming the claim."""
    if name == resource.key:
        return (
            f"is {resource.id}'s key, the subject's own code (sent as subject): comparing it "
            "would only tell whether the subject is on record; claim other items"
        )
    return None


def budgets_guesses(item: Item) -> bool:
    """Whether mismatching claims of ``item`` are budgeted (``GOVSHARE_COMPARE_GUESSES`` an
    hour per consumer, subject and item): every item that reading does not open to every
    department. Comparing may be wider than reading (``compare: unconditional``, a grant
    covering compare only), and a consumer claiming value after value (a name from a list
    of common names, at the compare rate) would otherwise learn the value it may not read.
    Matches cost nothing: verifying what one holds is what compare is for."""
    return item.share is not Share.UNCONDITIONAL


# Both sides are keyed digests of one length before ``compare_digest``: it is constant-time
# only for inputs of equal length, and the length of a canonical form would tell something
# about the stored value. The key is per process: the digests never leave it.
_KEY: Final = secrets.token_bytes(32)


def _keyed(canonical_form: bytes) -> bytes:
    return hashlib.blake2b(canonical_form, key=_KEY, digest_size=32).digest()


def normalize_text(text: str, steps: tuple[str, ...]) -> str:
    """``text`` after the catalog's ``normalize`` steps, in order (nfkc, strip, upper)."""
    for step in steps:
        text = _STEPS[step](text)
    return text


def fold_whitespace(text: str) -> str:
    """Every run of whitespace of any kind (Unicode White_Space) made one ASCII space, none
    at either end: ``"  武汉\u3000华盛\t公司 "`` -> ``"武汉 华盛 公司"``."""
    return " ".join(text.split())


_STEPS = {
    "nfkc": lambda text: unicodedata.normalize("NFKC", text),
    "strip": fold_whitespace,
    "upper": str.upper,
}


def _text(value: Any, item: Item) -> bytes:
    return normalize_text(str(value), item.normalize).encode("utf-8", "surrogatepass")


def _date(value: Any, item: Item) -> bytes:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat().encode()
    found = _DATE.match(unicodedata.normalize("NFKC", str(value)).strip())
    if found is None:
        raise ValueError("not a date")
    year, month, day = map(int, found.groups())
    return dt.date(year, month, day).isoformat().encode()


def _number(value: Any, item: Item) -> bytes:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    number = Decimal(text)
    if not number.is_finite():
        raise ValueError("not a finite number")
    sign, digits, exponent = number.as_tuple()  # exact: normalize() would round to 28 digits
    text = "".join(map(str, digits)).lstrip("0")
    if not text:  # 0, -0, 0.00, 0e5: one zero
        return b"0"
    significant = text.rstrip("0")
    assert isinstance(exponent, int)  # finite
    return f"{'-' if sign else ''}{significant}e{exponent + len(text) - len(significant)}".encode()


def _boolean(value: Any, item: Item) -> bytes:
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _TRUE:
        return b"true"
    if text in _FALSE:
        return b"false"
    raise ValueError("not a boolean")


def _datetime(value: Any, item: Item) -> bytes:
    try:
        if isinstance(value, dt.datetime):
            return as_utc(value).isoformat().encode()
        return parse_instant(unicodedata.normalize("NFKC", str(value))).isoformat().encode()
    except BadRequest as exc:  # not an instant, or out of range: unreadable, never an error
        raise ValueError(exc.message) from None


_READERS = {
    "string": _text,
    "date": _date,
    "integer": _number,
    "number": _number,
    "boolean": _boolean,
    "datetime": _datetime,
}
