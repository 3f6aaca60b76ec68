"""Text that may be stored and shown: the rule for every text argument of the API.

A text argument (``String``, ``ID`` and the text of any scalar) is refused when it holds a
C0 control character other than TAB, LF and CR (U+0000-U+001F; Unicode "Cc" below U+0020).
They are not text anybody types; U+0000 in particular cannot be stored in a PostgreSQL
``text`` column ("invalid byte sequence for encoding UTF8: 0x00"), so letting it through
turned a client's mistake into a server error. The GraphQL source text itself already
refuses them outside escapes (GraphQL spec, section 2.1.1 "Source Text"); this rule covers
the escaped form (``"\\u0000"``) and variables.
"""

from __future__ import annotations

import re

from errors import BadRequest

__all__ = ["control_character", "refuse_control_characters"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def control_character(text: str) -> int | None:
    """The index of the first refused control character in ``text``, or None."""
    found = _CONTROL.search(text)
    return None if found is None else found.start()


def refuse_control_characters(text: str, where: str) -> None:
    """Raise BadRequest naming ``where`` (e.g. "variable $id") if ``text`` breaks the rule."""
    index = control_character(text)
    if index is not None:
        code = f"U+{ord(text[index]):04X}"
        raise BadRequest(
            f"{where} holds the control character {code} at position {index + 1}: text may hold "
            "tab and line breaks but no other control characters; remove it",
            character=code,
            position=index + 1,
        )
