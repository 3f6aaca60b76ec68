"""JSON request bodies: a key sent twice in one object is refused (``refuse_duplicate_keys``).

RFC 8259 section 4 says the names of an object SHOULD be unique and leaves what a parser
does with duplicates open; orjson, the gateway's parser, keeps the last silently. For a
compare claim (``{"name": "a", "name": "b"}``) or a GraphQL variable which value was used
would then be the parser's choice, not the sender's, while the answer says only "match".
So a body orjson has found valid is parsed once more by the standard library's ``json``,
whose ``object_pairs_hook`` sees every pair, and a duplicate is a 400 naming its path.
Own code: no JSON library refuses duplicates; this is 20 lines over ``json``'s own hook.
"""

from __future__ import annotations

import json
from typing import Any

from errors import BadRequest

_DEEPEST = 32  # deeper objects are refused by the callers' own depth limits anyway


class _Keys(dict[str, Any]):
    """A JSON object that remembers the first key it was sent twice."""

    twice: str | None = None


def _keys(pairs: list[tuple[str, Any]]) -> _Keys:
    found = _Keys()
    for key, value in pairs:
        if key in found and found.twice is None:
            found.twice = key
        found[key] = value
    return found


def refuse_duplicate_keys(text: bytes | str, at: str = "") -> None:
    """Raise ``BadRequest`` naming the first key sent twice in one object of ``text`` (a
    JSON document already found valid), as a path under ``at``: ``requests[2].claims.name``,
    ``variables.c.name``. ``field`` in the error's extensions is that path."""
    try:
        parsed = json.loads(text, object_pairs_hook=_keys)
    except RecursionError:  # orjson allows 1024 levels; json recurses in Python
        raise BadRequest("the JSON is nested too deeply", field=at.rstrip(".") or "(body)") from None
    except ValueError as exc:  # json accepts more than orjson; kept for safety: never a 500
        raise BadRequest(f"the JSON cannot be read: {exc}", field=at.rstrip(".") or "(body)") from None
    twice = _first_twice(parsed, at, 0)
    if twice is not None:
        raise BadRequest(f"{twice} is sent twice in one object: send each key once", field=twice)


def _first_twice(value: Any, at: str, depth: int) -> str | None:
    """The path of the first key sent twice, or None."""
    children: list[tuple[str, Any]] = []
    if isinstance(value, _Keys):
        if value.twice is not None:
            return f"{at}{value.twice[:40]}"
        children = [(f"{at}{key[:40]}.", child) for key, child in value.items()]
    elif isinstance(value, list):
        children = [(f"{at.rstrip('.')}[{i}].", child) for i, child in enumerate(value)]
    if depth >= _DEEPEST:
        return None
    return next((found for path, child in children if (found := _first_twice(child, path, depth + 1))), None)
