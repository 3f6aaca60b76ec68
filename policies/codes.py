"""Identity codes: the USCC (GB 32100-2015) and the citizen ID number (GB 11643-1999).

Every entry point normalizes first (whitespace removed, NFKC, upper case) and
raises ``errors.InvalidCode`` naming one rule: length, charset, division,
org_code_check, check_char or birth_date.  Messages quote only the submitted
code (normalized, shortened if very long) and say how to fix it.

The division (USCC characters 3-8, citizen-ID characters 1-6) is a GB/T 2260
administrative division code: six digits beginning with a province-level code
(``PROVINCES``: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81-83); a USCC may
also carry ``100000``, national registration (GB 32100-2015, 5.3).  Only the
province level is checked: county codes are abolished and renumbered by every
reorganisation, and a code issued before one stays a valid code for life.
"""

from __future__ import annotations

import datetime
import functools
import unicodedata
from typing import Literal

from errors import InvalidCode
from policies.chinatime import today_in_china

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

Kind = Literal["USCC", "CitizenID"]

_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BASE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)
_MAX_ECHO = 40
_USCC_PARTS = (
    (1, "an authority code"),
    (1, "a category code"),
    (6, "a division"),
    (8, "an org base"),
)
# GB/T 2260 province-level divisions (the first two digits of every division code): 71 is
# Taiwan, 81 Hong Kong, 82 Macao; 83 begins the residence permits of Taiwan residents (2018).
PROVINCES = frozenset(
    f"{n}" for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                     *range(50, 55), *range(61, 66), 71, 81, 82, 83)
)  # fmt: skip
NATIONAL_REGISTRATION = "100000"  # USCC only: registered by a national authority
_FIX = {
    "USCC": "re-enter the code from the business licence",
    "CitizenID": "re-enter the number from the identity card",
}


# --- normalization and errors -------------------------------------------------


def _normalize_once(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def normalize(raw: str) -> str:
    """Strip all whitespace, fold full-width forms (NFKC) and upper-case.

    Repeated to a fixed point so that ``normalize`` is idempotent even where one
    pass exposes new combinations (for example a combining mark after a space).
    """
    text = raw
    for _ in range(8):
        folded = _normalize_once(text)
        if folded == text:
            break
        text = folded
    return text


def _echo(code: str) -> str:
    return code if len(code) <= _MAX_ECHO else code[:_MAX_ECHO] + "..."


def _fail(kind: Kind, code: str, rule: str, detail: str) -> InvalidCode:
    message = f'{kind} "{_echo(code)}" failed {rule}: {detail}; {_FIX[kind]}'
    return InvalidCode(message, kind=kind, rule=rule)


def _first_bad(code: str, allowed: frozenset[str] | str) -> int | None:
    return next((i for i, ch in enumerate(code) if ch not in allowed), None)


def _require_length(kind: Kind, code: str, lengths: tuple[int, ...], what: str) -> None:
    if len(code) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        detail = f"it has {len(code)} characters but {what} has {wanted}"
        raise _fail(kind, code, "length", detail)


def _require_chars(
    kind: Kind, code: str, allowed: frozenset[str] | str, what: str, end: int | None = None
) -> None:
    bad = _first_bad(code[:end], allowed)
    if bad is not None:
        detail = f'character {bad + 1} "{code[bad]}" is not allowed ({what})'
        raise _fail(kind, code, "charset", detail)


def is_division(division: str, *, national: bool = False) -> bool:
    """Whether ``division`` is 6 digits beginning with a GB/T 2260 province-level code;
    with ``national`` (USCC characters 3-8) ``100000`` is accepted too."""
    if len(division) != 6 or _first_bad(division, _DIGITS) is not None:
        return False
    return division[:2] in PROVINCES or (national and division == NATIONAL_REGISTRATION)


def is_division_prefix(prefix: str) -> bool:
    """Whether ``prefix`` (2 to 6 digits, as a grant's region condition) can begin a division
    code: its first two digits a province-level code, or a prefix of ``100000``."""
    if not 2 <= len(prefix) <= 6 or _first_bad(prefix, _DIGITS) is not None:
        return False
    return prefix[:2] in PROVINCES or NATIONAL_REGISTRATION.startswith(prefix)


def division_rule(*, national: bool = False) -> str:
    """The division rule in words, for messages."""
    extra = ", or 100000 for national registration" if national else ""
    return f"a 6-digit GB/T 2260 division code beginning with a province-level code (11-15, 21-23, " \
        f"31-37, 41-46, 50-54, 61-65, 71, 81-83{extra})"  # fmt: skip


def _require_division(kind: Kind, code: str, division: str, where: str) -> None:
    national = kind == "USCC"
    if not is_division(division, national=national):
        detail = f'{where} "{_echo(division)}" must be {division_rule(national=national)}'
        raise _fail(kind, code, "division", detail)


def _mismatch(kind: Kind, code: str, rule: str, index: int, expected: str) -> InvalidCode:
    detail = f'the {index + 1}th character should be "{expected}" but is "{code[index]}"'
    return _fail(kind, code, rule, detail)


# --- check characters ---------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """The 18th USCC character for the first 17 (GB 32100: weights 3^(i-1) mod 31)."""
    code = normalize(first17)
    _require_length("USCC", code, (17,), "the part before the check character")
    _require_chars("USCC", code, USCC_CHARSET, "digits and letters except I O S V Z")
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(code, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The 9th organization-code character (GB 11714: A=10 .. Z=35, mod 11)."""
    code = normalize(first8)
    _require_length("USCC", code, (8,), "an organization code body")
    _require_chars("USCC", code, _ORG_BASE_CHARS, "digits and uppercase letters")
    total = sum(int(ch, 36) * w for ch, w in zip(code, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def citizen_id_check_char(first17: str) -> str:
    """The 18th citizen-ID character for the first 17 digits (GB 11643, mod 11)."""
    code = normalize(first17)
    _require_length("CitizenID", code, (17,), "the part before the check character")
    _require_chars("CitizenID", code, _DIGITS, "digits only")
    total = sum(int(ch) * w for ch, w in zip(code, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


# --- USCC ---------------------------------------------------------------------


def _check_uscc(code: str) -> str:
    _require_length("USCC", code, (18,), "a USCC")
    _require_chars("USCC", code, USCC_CHARSET, "digits and letters except I O S V Z")
    _require_division("USCC", code, code[2:8], "characters 3-8")
    org_check = org_code_check_char(code[8:16])
    if code[16] != org_check:
        raise _mismatch("USCC", code, "org_code_check", 16, org_check)
    check = uscc_check_char(code[:17])
    if code[17] != check:
        raise _mismatch("USCC", code, "check_char", 17, check)
    return code


def validate_uscc(raw: str) -> str:
    """Return the normalized USCC or raise ``InvalidCode(kind="USCC", rule=...)``.

    Valid codes are remembered by their text (``VALID_USCC_CACHE`` of them, least recently
    used first out): one request validates its codes several times (variable coercion for
    the plan and for execution, the argument, the token's subject) and under load the same
    codes recur; the checks were ~2/3 of a variable's coercion. A refused code is checked
    afresh each time (``lru_cache`` keeps no exception), so its error is the same. Citizen
    IDs are not remembered: personal data stays out of long-lived memory."""
    if type(raw) is str:
        return _valid_uscc(raw)
    return _check_uscc(normalize(raw))


VALID_USCC_CACHE = 16_384  # ~3 MB at most: the text, the code and the cache's link per entry


@functools.lru_cache(maxsize=VALID_USCC_CACHE)
def _valid_uscc(raw: str) -> str:
    return _check_uscc(normalize(raw))


def is_valid_uscc(raw: str) -> bool:
    try:
        validate_uscc(raw)
    except InvalidCode:
        return False
    return True


def org_code_of(uscc: str) -> str:
    """The 9-character organization code embedded in a valid USCC (chars 9-17)."""
    return validate_uscc(uscc)[8:17]


def make_uscc(authority: str, category: str, region: str, org_base8: str) -> str:
    """Build a valid USCC, computing the organization-code and USCC check characters."""
    parts = [normalize(p) for p in (authority, category, region, org_base8)]
    _require_division("USCC", parts[2], parts[2], "the region")
    for part, (size, what) in zip(parts, _USCC_PARTS, strict=True):
        _require_length("USCC", part, (size,), what)
    first17 = "".join(parts) + org_code_check_char(parts[3])
    return validate_uscc(first17 + uscc_check_char(first17))


# --- citizen ID ---------------------------------------------------------------


def _parse_birth(digits8: str) -> datetime.date | None:
    try:
        return datetime.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:]))
    except ValueError:
        return None


def _check_birth(code: str, digits8: str, today: datetime.date) -> None:
    born = _parse_birth(digits8)
    if born is None or not _EARLIEST_BIRTH <= born <= today:
        where = "7-12 (YYMMDD)" if len(code) == 15 else "7-14 (YYYYMMDD)"
        detail = f"characters {where} must be a real birth date from 1900-01-01 to today (China time)"
        raise _fail("CitizenID", code, "birth_date", detail)


def _check_legacy(code: str, today: datetime.date) -> str:
    _require_chars("CitizenID", code, _DIGITS, "a 15-digit legacy number has digits only")
    _require_division("CitizenID", code, code[:6], "characters 1-6")
    _check_birth(code, "19" + code[6:12], today)
    first17 = code[:6] + "19" + code[6:]
    return first17 + citizen_id_check_char(first17)


def _check_citizen_id(code: str, today: datetime.date) -> str:
    _require_length("CitizenID", code, (15, 18), "a citizen ID number")
    if len(code) == 15:
        return _check_legacy(code, today)
    _require_chars("CitizenID", code, _DIGITS, "the first 17 characters are digits", end=17)
    _require_chars("CitizenID", code, _DIGITS | {"X"}, "the 18th character is a digit or X")
    _require_division("CitizenID", code, code[:6], "characters 1-6")
    _check_birth(code, code[6:14], today)
    check = citizen_id_check_char(code[:17])
    if code[17] != check:
        raise _mismatch("CitizenID", code, "check_char", 17, check)
    return code


def validate_citizen_id(raw: str) -> str:
    """Return the normalized 18-digit ID (15-digit legacy numbers converted) or raise."""
    return _check_citizen_id(normalize(raw), today_in_china())  # a birth date is a day in China


def is_valid_citizen_id(raw: str) -> bool:
    try:
        validate_citizen_id(raw)
    except InvalidCode:
        return False
    return True


def convert_legacy_id(id15: str) -> str:
    """Convert a 15-digit legacy ID to 18 digits: "19" before the year, check appended."""
    code = normalize(id15)
    _require_length("CitizenID", code, (15,), "a legacy citizen ID number")
    return validate_citizen_id(code)


def make_citizen_id(region: str, birth: datetime.date, seq3: str) -> str:
    """Build a valid 18-digit citizen ID from a division, birth date and sequence."""
    parts = (
        normalize(region),
        f"{birth.year:04d}{birth.month:02d}{birth.day:02d}",
        normalize(seq3),
    )
    _require_division("CitizenID", parts[0], parts[0], "the region")
    _require_length("CitizenID", parts[2], (3,), "a sequence number")
    first17 = "".join(parts)
    return validate_citizen_id(first17 + citizen_id_check_char(first17))


# --- regions ------------------------------------------------------------------


def _detect_kind(code: str) -> Kind:
    if len(code) == 15 or is_valid_citizen_id(code):
        return "CitizenID"
    if is_valid_uscc(code) or _first_bad(code[:17], _DIGITS) is not None:
        return "USCC"
    return "CitizenID"


def region_of(code: str, *, kind: Kind | None = None) -> str:
    """The 6-digit division: USCC chars 3-8, citizen ID chars 1-6 (validated first).

    Without ``kind`` the code is read as a citizen ID when it is a valid one, is
    15 characters long or is an invalid code whose first 17 characters are all
    digits; otherwise as a USCC.  Callers that know the
    subject type should pass ``kind``: an 18-digit string can be valid as both.
    """
    normalized = normalize(code)
    if (kind or _detect_kind(normalized)) == "CitizenID":
        return validate_citizen_id(normalized)[:6]
    return validate_uscc(normalized)[2:8]
