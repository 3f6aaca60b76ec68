"""Subject identifiers as each profile keys them (issue 10 section 2).

Zhejiang art. 21 keys legal persons by their organization code (组织机构代码, GB 11714: 8
characters and a check character, often written ``XXXXXXXX-X``). Since GB 32100-2015 that
code is embedded in the unified social credit code (characters 9-17), so an organization
code resolves to the one USCC that embeds it (DESIGN section 6, legacy lookups). Shanghai
art. 12 keys everything by the USCC (a person's is the citizen ID number), as the gateway
does for every profile.

Rules only: which profiles accept an organization code, what a valid one is, and which USCC
embeds it. Finding the candidate USCCs is the caller's (resolvers.org_codes).
"""

from __future__ import annotations

from collections.abc import Iterable

from errors import InvalidCode
from policies.codes import USCC_CHARSET, normalize, org_code_check_char
from policies.profile import Profile

ORG_CODE = "OrgCode"
_BODY_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def accepts_org_code(profile: Profile) -> bool:
    """Whether the profile keys organizations by organization code (Zhejiang art. 21)."""
    return ORG_CODE in profile.identifiers


def validate_org_code(raw: str) -> str:
    """The 9-character organization code in its one form (normalized as codes are: spaces
    dropped, NFKC, upper case; the hyphen before the check character dropped), or
    ``InvalidCode(kind="OrgCode", rule=length | charset | org_code_check)``. GB 11714: the
    check character is 11 - (sum of values x weights 3 7 9 10 5 8 4 2) mod 11, 10 -> X,
    11 -> 0. Only characters a USCC may hold can embed it (GB 32100: no I O S V Z)."""
    code = normalize(raw)
    if len(code) == 10 and code[8] == "-":
        code = code[:8] + code[9]
    if len(code) != 9:
        raise _invalid(
            code, "length", f"an organization code has 9 characters (8 and a check), got {len(code)}"
        )
    if (
        any(ch not in _BODY_CHARS or ch not in USCC_CHARSET for ch in code[:8])
        or code[8] not in "0123456789X"
    ):
        raise _invalid(
            code, "charset", "digits and upper-case letters except I O S V Z; the check is a digit or X"
        )
    expected = org_code_check_char(code[:8])
    if code[8] != expected:
        raise _invalid(code, "org_code_check", f"the check character (9th) should be {expected}")
    return code


def _invalid(code: str, rule: str, detail: str) -> InvalidCode:
    shown = code if len(code) <= 12 else code[:12] + "…"
    return InvalidCode(f"organization code {shown!r} is invalid: {detail}", kind=ORG_CODE, rule=rule)


def usccs_embedding(org_code: str, usccs: Iterable[str]) -> tuple[str, ...]:
    """The USCCs among ``usccs`` whose characters 9-17 are ``org_code`` (a valid one), sorted:
    one for a registered organization, none when no source knows it."""
    return tuple(sorted({u for u in usccs if len(u) == 18 and u[8:17] == org_code}))
