"""YAML as the rule files need it: duplicate keys refused, dates optionally kept as text.

PyYAML silently keeps the last of two equal keys, and builds dates itself (so an
impossible ``2024-13-01`` fails without a path). The loaders here refuse the first and,
where asked, leave dates as text so the caller can report a bad one at its path.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_EXPANDED_NODES = 2_000_000  # a catalog of 10,000 items has about 200,000


class StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys, and a document whose aliases would expand past
    ``MAX_EXPANDED_NODES`` nodes (a "billion laughs" file: nine anchors of nine aliases each
    load as small shared lists, but every walk over them, validation or storage, visits 9^9
    values and never finishes)."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values: "
                "write the repeated parts out, or nest anchors less", node.start_mark,
            )  # fmt: skip
        return self.construct_document(node)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes ``node`` is once every alias is written out (each shared node counted
    once per use); ``sizes`` memoizes by node, so this takes time linear in the file."""
    if id(node) in sizes:
        return sizes[id(node)]
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = size
    return size


class StrictTextDatesLoader(StrictLoader):
    """Safe YAML that refuses duplicate keys and leaves dates as text."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


def _timestamp_as_text(loader: StrictLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
StrictTextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def describe(value: object) -> str:
    """A short description of a wrong value, for messages: its YAML type, or the value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({type(value).__name__})"
