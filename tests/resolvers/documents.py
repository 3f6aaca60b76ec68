"""Hypothesis building blocks for generated GraphQL documents under a subject type: fields
with aliases, ``@skip``/``@include`` conditions and inline or named fragments. Shared by the
differential tests of both fast paths (``test_fastpath.py``, ``test_compiled_query.py``),
each with its own weights (``Shapes``)."""

from __future__ import annotations

import dataclasses

from graphql import GraphQLObjectType, get_named_type
from hypothesis import strategies as st


@dataclasses.dataclass(frozen=True)
class Shapes:
    """How many plain choices weigh against each odd one in a draw."""

    plain_conditions: int  # no directive, against @skip / @include
    plain_aliases: int  # no alias, against a few (one shared by different fields)
    plain_wraps: int  # the field itself, against an inline or a named fragment


def condition(draw: st.DrawFn, shapes: Shapes, flags: dict[str, bool]) -> str:
    """Nothing, or ``@skip``/``@include`` on a literal or on a new Boolean variable (added
    to ``flags`` with its value)."""
    kind = draw(st.sampled_from([*[""] * shapes.plain_conditions, "skip", "include"]))
    if not kind:
        return ""
    if draw(st.booleans()):
        return f" @{kind}(if: {str(draw(st.booleans())).lower()})"
    name = f"f{len(flags)}"
    flags[name] = draw(st.booleans())
    return f" @{kind}(if: ${name})"


def alias(draw: st.DrawFn, shapes: Shapes, name: str) -> str:
    """Mostly none or one per field (repeated keys merge); now and then one shared by
    different fields (invalid: the validation error must come out the same too)."""
    return draw(
        st.sampled_from([*[""] * shapes.plain_aliases, f"a_{name}: ", f"a_{name}: ", f"b_{name}: ", "x1: "])
    )


def selection(draw: st.DrawFn, shapes: Shapes, type_: GraphQLObjectType, flags: dict[str, bool],
              fragments: dict[str, str], depth: int) -> str:  # fmt: skip
    """A selection set's text under ``type_`` (two levels at most); named fragments go to
    ``fragments``, condition variables to ``flags``."""
    parts = []
    for name in draw(st.lists(st.sampled_from([*type_.fields, "__typename"]), min_size=1, max_size=6)):
        field = type_.fields.get(name)
        child = get_named_type(field.type) if field is not None else None
        inner = ""
        if isinstance(child, GraphQLObjectType):
            if depth > 1:
                continue
            inner = " { " + selection(draw, shapes, child, flags, fragments, depth + 1) + " }"
        text = f"{alias(draw, shapes, name)}{name}{condition(draw, shapes, flags)}{inner}"
        parts.append(_wrapped(draw, shapes, type_, text, flags, fragments))
    return " ".join(parts)


def _wrapped(draw: st.DrawFn, shapes: Shapes, type_: GraphQLObjectType, text: str, flags: dict[str, bool],
             fragments: dict[str, str]) -> str:  # fmt: skip
    wrap = draw(st.sampled_from([*[""] * shapes.plain_wraps, "inline", "named"]))
    if wrap == "inline":
        return f"... on {type_.name}{condition(draw, shapes, flags)} {{ {text} }}"
    if wrap == "named":
        fragment = f"F{len(fragments)}"
        fragments[fragment] = f"fragment {fragment} on {type_.name} {{ {text} }}"
        return f"...{fragment}{condition(draw, shapes, flags)}"
    return text
