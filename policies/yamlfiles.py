"""YAML as the rule files need it: duplicate keys refused, dates optionally kept as text.

PyYAML silently keeps the last of two equal keys, and builds dates itself (so an
impossible ``2024-13-01`` fails without a path). The loaders here refuse the first and,
where asked, leave dates as text so the caller can report a bad one at its path.
"""

from __future__ import annotations

from typing import Any

import yaml


class StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys."""


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
