"""Operation cost limits, checked before parsing and validation do expensive work.

One request must not hold the event loop for long: every other request waits meanwhile.
The cost of each step grows with something a client controls, so each step has a limit,
checked by the cheapest means before the step runs:

| step | grows with | limit (default) | checked |
|---|---|---|---|
| reading the head | request line and header bytes | ``max_head_bytes`` (64 KiB) | while reading, 431 |
| reading the body | bytes | ``max_body_bytes`` (1 MiB) | while reading, 413 |
| parsing | characters | ``max_document_chars`` (16,384) | before lexing |
| parsing | tokens | ``max_tokens`` (1,000) | while lexing |
| validation, execution | selections, fragments inlined | ``max_fields`` (500) | one walk |
| | aliases | ``max_aliases`` (100) | same walk |
| | nesting | ``max_depth`` (20) | same walk |
| reading variables | nesting of lists, objects | ``max_depth`` (20) | gateway.http |
| merging fields | a response name selected again | ``max_repeated_fields`` (50) | a second walk |
| error reporting | errors (a location each) | ``max_errors`` (100) | validating, executing |
| completing the result | values, lists multiplying | ``max_result_values`` (25,000) | executing |
| batches | operations in one request | ``max_batch`` (20) | gateway.http |
| coercing variables | values in them | ``max_variable_values`` (2,000) | gateway.http |
| parsing new texts | a client's tokens/s | ``new_tokens_per_second`` (5,000) | before parsing, 429 |
| | and burst | ``new_tokens_burst`` (20,000) | |

The last one is fairness, not size: a document already parsed costs nothing to parse again,
so a client that reuses its documents (values in variables) never meets it, while one that
sends a fresh document every time (the cheapest way to make the gateway work) gets its
share of parsing capped at a few per cent of one core.

Why a walk of our own rather than strawberry's ``MaxAliasesLimiter`` / ``QueryDepthLimiter``:
both walk a fragment once per spread, and a document of 30 fragments each spreading the
next twice makes them visit 2^30 selections; here each fragment is measured once and
reused. ``MaxTokensLimiter`` fits (it is a parser option) and is used as is.

Why ``max_repeated_fields``: validation checks that fields selected under the same
response name can be merged, comparing every pair of them (graphql-core's
``OverlappingFieldsCanBeMergedRule``): 380 repeats of ``enterpriseRegistration { name }``
took about a second and deeper repeats ended in "Validation aborted.".

A refusal is ``QueryTooComplex`` (``QUERY_TOO_COMPLEX``, HTTP 400) naming the limit, its
value and its ``GOVSHARE_*`` variable, and saying how to fit within it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from errors import QueryTooComplex, RateLimited

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class OperationLimits:
    """What one request may cost; each field is read from ``GOVSHARE_<NAME>`` (upper case)."""

    max_head_bytes: int = 65_536  # httptools reads no URL longer: past it a vague plain 400
    max_body_bytes: int = 1_048_576
    max_document_chars: int = 16_384
    max_tokens: int = 1_000
    max_fields: int = 500
    max_aliases: int = 100
    max_depth: int = 20
    max_repeated_fields: int = 50
    max_errors: int = 100
    max_result_values: int = 25_000  # ~7 µs each to complete: ~0.18 s of event loop at most
    max_batch: int = 20
    max_variable_values: int = 2_000  # two full lists of codes: each code is validated on coercion
    new_tokens_per_second: int = 5_000
    new_tokens_burst: int = 20_000
    cache_bytes: int = 32 * 1_048_576  # per cache: documents, validation results, plans
    max_subscriptions: int = 100  # live subscriptions of one consumer department per gateway process

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


HOW_TO_FIT = {
    "max_head_bytes": "send long queries and variables in a POST body, not in the URL or headers",
    "max_body_bytes": "send a smaller request: pass long lists in variables once, or split the batch",
    "max_document_chars": "shorten the query: use variables instead of literals and name fields once",
    "max_tokens": "pass values as variables instead of literals, or split the query",
    "max_fields": "ask for fewer fields per operation, or split the query into several requests",
    "max_aliases": "use a list field (organizations, persons) with a variable, not an alias per subject",
    "max_depth": "nest selections and fragments less deeply",
    "max_repeated_fields": "select each field once: repeated selections of one name are merged anyway",
    "max_errors": "ask only for items you are granted and subjects in scope, or split the request",
    "max_result_values": "ask for fewer codes per list or fewer fields (aliases) per subject, or split it",
    "max_batch": "send fewer operations per batch",
    "max_variable_values": "send at most 1,000 codes per list and split longer work over several requests",
    "new_tokens_per_second": "reuse documents and pass values as variables; retry after a moment",
    "new_tokens_burst": "reuse documents and pass values as variables; retry after a moment",
    "max_subscriptions": "complete the subscriptions you no longer read: one can name several resources",
}


def too_complex(limit: str, maximum: int, what: str, found: int | None = None) -> QueryTooComplex:
    """The refusal for one limit: ``what`` says what was counted ("tokens", "aliases"...)."""
    count = f"{found}" if found is not None else f"more than {maximum}"
    variable = f"GOVSHARE_{limit.upper()}"
    message = f"too many {what}: {count}, the limit is {maximum} ({limit}, {variable}); {HOW_TO_FIT[limit]}"
    extensions: dict[str, Any] = {"limit": limit, "maximum": maximum, "variable": variable}
    if found is not None:
        extensions["found"] = found
    return QueryTooComplex(message, **extensions)


def check_variable_values(
    operations: Sequence[Mapping[str, Any]], maximum: int, max_depth: int = OperationLimits.max_depth
) -> None:
    """Refuses (``QueryTooComplex``) a request whose variables hold more than ``maximum``
    values in all (every list element and object field, nested ones included, across a batch),
    or nest lists and objects more than ``max_depth`` levels deep (limit ``max_depth``).

    Coercing a variable validates each value (a USCC or citizen ID costs ~25 µs to check),
    and graphql-core coerces every element of a list before any resolver can apply its own
    cap: 45,000 codes in a 1 MiB body held the event loop ~1 s. The walk stops at the first
    value past the limit, so it costs at most ``maximum`` steps. Nesting: JSON parsers admit
    ~1,000 levels (orjson 1,024), more than the interpreter's recursion limit, so a later
    recursive walk of the variables (text checks, coercion) failed with a 500 on 1,000
    levels; no input type of the schema nests more than a few."""
    count = 0
    pending: list[tuple[Any, int]] = [(op.get("variables"), 0) for op in operations]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            values: Any = value.values()
        elif isinstance(value, list):
            values = value
        else:
            continue
        if depth > max_depth:
            raise too_complex("max_depth", max_depth, "levels of nesting in the variables", None)
        count += len(values)
        if count > maximum:
            raise too_complex("max_variable_values", maximum, "values in the variables")
        pending.extend((v, depth + 1) for v in values if isinstance(v, dict | list))


# --- the cost of a document ------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """Of all operations of a document, fragments inlined: ``fields`` counts field
    selections and fragment uses, ``depth`` the deepest field nesting, ``repeated`` the
    selections of a response name already selected at the same place."""

    fields: int
    aliases: int
    depth: int
    repeated: int


@dataclass
class _Tally:
    fields: int = 0
    aliases: int = 0
    depth: int = 0


class _Measure:
    """Counts each fragment once (memoized), so repeated spreads cost nothing to count."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, _Tally] = {}
        self.open: set[str] = set()  # fragments being measured: a cycle counts 0 (validation refuses it)

    def selection_set(self, node: SelectionSetNode | None) -> _Tally:
        tally = _Tally()
        spread: set[str] = set()  # a fragment spread twice in one selection set is collected once
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                nested = inner.depth + 1 if selection.selection_set else 1
                self._add(tally, inner, 1 + (selection.alias is not None), nested)
            elif isinstance(selection, InlineFragmentNode):
                self._add(tally, self.selection_set(selection.selection_set), 1, 0)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                self._add(tally, self.fragment(selection.name.value), 1, 0)
        return tally

    @staticmethod
    def _add(tally: _Tally, inner: _Tally, own: int, nested_depth: int) -> None:
        tally.fields += inner.fields + 1
        tally.aliases += inner.aliases + (own == 2)
        tally.depth = max(tally.depth, nested_depth or inner.depth)

    def fragment(self, name: str) -> _Tally:
        found = self.memo.get(name)
        if found is not None:
            return found
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return _Tally()
        self.open.add(name)
        found = self.memo[name] = self.selection_set(definition.selection_set)
        self.open.discard(name)
        return found


class _Repeats:
    """Selections of a response name already selected at the same merged place."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.seen: dict[tuple[int, str], int] = {}  # (place, response name) -> place below it
        self.repeated = 0

    def selection_set(self, node: SelectionSetNode | None, place: int, inlined: frozenset[str]) -> None:
        spread: set[str] = set()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                key = (place, (selection.alias or selection.name).value)
                below = self.seen.get(key)
                if below is None:
                    below = self.seen[key] = len(self.seen) + 1
                else:
                    self.repeated += 1
                self.selection_set(selection.selection_set, below, frozenset())
            elif isinstance(selection, InlineFragmentNode):
                self.selection_set(selection.selection_set, place, inlined)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is None or name in spread or name in inlined:
                    continue
                spread.add(name)
                self.selection_set(definition.selection_set, place, inlined | {name})


def measure(document: DocumentNode, max_depth: int = OperationLimits.max_depth) -> Cost:
    """The cost of validating and running ``document``, in time linear in its size.

    Raises ``QueryTooComplex`` (``max_depth``) when fragments nest beyond the interpreter's
    recursion limit (far deeper than any ``max_depth``)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    try:
        counted = _Measure(fragments)
        tallies = [counted.selection_set(op.selection_set) for op in operations]
    except RecursionError:
        raise too_complex("max_depth", max_depth, "levels of nesting") from None
    return Cost(
        fields=sum(t.fields for t in tallies),
        aliases=sum(t.aliases for t in tallies),
        depth=max((t.depth for t in tallies), default=0),
        repeated=0,
    )


def repeated_fields(document: DocumentNode) -> int:
    """How many selections repeat a response name at the same merged place. Expands
    fragments, so call it only once ``measure`` has bounded the expanded size."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Repeats(fragments)
    for op in document.definitions:
        if isinstance(op, OperationDefinitionNode):
            walk.selection_set(op.selection_set, 0, frozenset())
    return walk.repeated


def check_document(document: DocumentNode, limits: OperationLimits) -> Cost:
    """Raise ``QueryTooComplex`` for the first limit ``document`` exceeds, else its cost."""
    cost = measure(document, limits.max_depth)
    for limit, found, what in (
        ("max_fields", cost.fields, "field selections, fragments inlined,"),
        ("max_aliases", cost.aliases, "aliases"),
        ("max_depth", cost.depth, "levels of nesting"),
    ):
        if found > getattr(limits, limit):
            raise too_complex(limit, getattr(limits, limit), what, found)
    repeated = repeated_fields(document)
    if repeated > limits.max_repeated_fields:
        raise too_complex(
            "max_repeated_fields", limits.max_repeated_fields, "repeated field selections", repeated
        )
    return Cost(cost.fields, cost.aliases, cost.depth, repeated)


# --- fairness: parsing new documents ---------------------------------------------------


class ParseBudget:
    """A token bucket per client: tokens of documents not parsed before that the client may
    have parsed, ``rate`` per second up to ``burst`` banked. At most ``clients`` buckets are
    kept (the least recently used go; a client forgotten starts full again)."""

    def __init__(self, rate: int, burst: int, clients: int = 10_000) -> None:
        self.rate, self.burst, self.clients = rate, burst, clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (level, at)

    def take(self, client: str, tokens: int, now: float) -> None:
        """Spend ``tokens`` or raise ``RateLimited`` naming the rate and when to retry."""
        level, at = self._buckets.pop(client, (float(self.burst), now))
        level = min(float(self.burst), level + (now - at) * self.rate)
        if tokens > level:
            self._keep(client, level, now)
            wait = (tokens - level) / self.rate
            variable = "GOVSHARE_NEW_TOKENS_PER_SECOND"
            raise RateLimited(
                f"too many new documents from this client: more than {self.rate} tokens per second of "
                f"documents not seen before (new_tokens_per_second, {variable}); "
                f"{HOW_TO_FIT['new_tokens_per_second']} (in {wait:.1f} s)",
                limit="new_tokens_per_second", maximum=self.rate, variable=variable,
                retry_after=round(wait, 1),
            )  # fmt: skip
        self._keep(client, level - tokens, now)

    def _keep(self, client: str, level: float, now: float) -> None:
        self._buckets[client] = (level, now)
        while len(self._buckets) > self.clients:
            self._buckets.popitem(last=False)


# --- caches bounded by bytes ---------------------------------------------------------


class ByteBoundedCache(Generic[K, V]):
    """Least recently used entries go first once the estimated bytes exceed ``budget``.

    ``size(key, value)`` estimates the bytes an entry keeps alive (see ``document_bytes``);
    an entry larger than the whole budget is not kept at all. ``entries`` also caps the count.
    """

    def __init__(self, budget: int, size: Callable[[K, V], int], entries: int = 4096) -> None:
        self.budget, self.size, self.entries = budget, size, entries
        self.bytes = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def pop(self, key: K) -> V | None:
        """Remove ``key``; its value, or None when it was not kept."""
        found = self._items.pop(key, None)
        if found is None:
            return None
        self.bytes -= found[1]
        return found[0]

    def listed(self) -> list[K]:
        """The keys kept, least recently used first."""
        return list(self._items)

    def put(self, key: K, value: V) -> None:
        cost = self.size(key, value)
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if cost > self.budget:
            return
        self._items[key] = (value, cost)
        self.bytes += cost
        while self.bytes > self.budget or len(self._items) > self.entries:
            _, (_, freed) = self._items.popitem(last=False)
            self.bytes -= freed


# Measured with tracemalloc over the shapes in tests/resolvers/test_limits.py (aliases,
# arguments, fragments, string literals): a parsed document keeps at most about 400
# bytes per token alive (nodes, their locations, and the token list those point into)
# besides its text. The estimate is an upper bound, so the budget bounds real memory.
BYTES_PER_TOKEN = 700
BYTES_PER_CHAR = 2  # the text (kept by the Source), up to 2 bytes a character in CPython
ENTRY_OVERHEAD = 512


def text_bytes(text: str | None) -> int:
    return ENTRY_OVERHEAD + BYTES_PER_CHAR * len(text or "")


def document_bytes(text: str | None, document: DocumentNode) -> int:
    """Estimated bytes a parsed document keeps alive: its text and its tokens' nodes."""
    tokens = int(getattr(document, "token_count", 0) or len(text or ""))
    return text_bytes(text) + BYTES_PER_TOKEN * tokens
