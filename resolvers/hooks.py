"""Strawberry's schema-extension runner with each hook resolved once per extension class.

Strawberry (0.341) builds the context managers of a request's phases (operation, parsing,
validation, execution) by inspecting every extension anew on every request: ``getattr`` of
the hook on its class, ``inspect.isgeneratorfunction`` and then ``contextlib.contextmanager``
over a freshly bound method, which copies the function's attributes (``functools.wraps``).
Profiled on the S1 workload under an open profile (py-spy, 32 connections), that per-request
set-up was ~4 % of the event loop's thread, more than the hooks' own work.

``CachedHooksRunner`` does the inspection once per (extension class, hook): a generator
hook is wrapped by ``contextlib.contextmanager`` over the unbound function, and each request
binds only its extension instance (``functools.partial``). Entering and leaving are
strawberry's own code, so the hooks run in the same order, with the same exceptions, as
before. A hook that is a plain function or coroutine (``from_callable``) and any phase but
the four above keep strawberry's path. ``GovshareSchema.create_extensions_runner`` uses it
(``resolvers.schema``); ``tests/resolvers/test_hooks.py`` compares both runners. Own code: it
is the hot path and strawberry offers no switch for it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

Factory = Callable[..., Any]  # (extension) -> a (async) context manager of the hook


@functools.cache
def hook_factory(extension_class: type[SchemaExtension], hook_name: str) -> tuple[Factory, bool] | None:
    """``(factory, is_async)`` for ``extension_class``'s generator hook ``hook_name``;
    ``None`` when it has none of its own. Raises ``LookupError`` for a hook of another kind
    (a plain function or coroutine), which strawberry's own ``get_hook`` handles."""
    hook = getattr(extension_class, hook_name)
    if hook is getattr(SchemaExtension, hook_name):
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    raise LookupError(hook_name)


class _CachedHooks(ExtensionContextManagerBase):
    """``get_hook`` through ``hook_factory``: one partial per extension and phase."""

    __slots__ = ()

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        try:
            found = hook_factory(type(extension), self.HOOK_NAME)  # type: ignore[arg-type]  # a class hashes
        except LookupError:
            return super().get_hook(extension)
        if found is None:
            return None
        factory, is_async = found
        return WrappedHook(extension=extension, hook=functools.partial(factory, extension), is_async=is_async)


class _Operation(_CachedHooks, OperationContextManager):
    __slots__ = ()


class _Parsing(_CachedHooks, ParsingContextManager):
    __slots__ = ()


class _Validation(_CachedHooks, ValidationContextManager):
    __slots__ = ()


class _Executing(_CachedHooks, ExecutingContextManager):
    __slots__ = ()


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner; the four phases' hooks resolved through ``hook_factory``."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)


__all__ = ["CachedHooksRunner", "hook_factory"]
