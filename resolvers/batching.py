"""Source calls, coalesced within a request and across concurrent requests.

Within a request, strawberry's ``DataLoader`` turns the N subjects of one resource
into one batch. Across requests, ``ResourceSource`` goes further: every batch for the
same resource that arrives in the same event-loop tick goes out as ONE ``IN`` query
over the union of keys and of columns. Under load it also waits for a free slot
(at most ``max_in_flight`` queries per resource), so batches that arrive while the
source is busy ride together on the next query: the busier the gateway, the larger
the batches, the fewer the round trips. Each waiter gets back only the keys and
columns it asked for, so a wider union never widens what one request sees.

Each caller waits at most the connector's ``timeout`` in all, counted from its arrival:
the wait for a free slot and the source call together. A caller whose time is up gets
``SourceUnavailable`` at once; a call that overruns is abandoned so that it frees its slot
(``connectors.base.within``). One hung department therefore costs its fields one timeout,
never one per queued batch.

A connector that forwards the consumer's identity (``Connector.forwards_identity``: an
upstream gateway deciding on the original consumer's grants) is coalesced only among
waiters of the same consumer, purpose and user (``OnBehalfOf.key``, read from
``connectors.forwarding.on_behalf_of`` when the waiter arrives): each group is its own
source call, made with ``on_behalf_of`` set to that consumer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.base import Binding, Connector, Row, within
from connectors.forwarding import OnBehalfOf, on_behalf_of
from errors import SourceUnavailable


@dataclass(eq=False)  # found by identity when it gives up waiting
class _Waiter:
    keys: Sequence[str]
    items: Sequence[str]
    future: asyncio.Future[dict[str, Row]]
    on_behalf: OnBehalfOf | None = None


@dataclass(eq=False)
class ResourceSource:
    """One resource of one department's source, shared by all requests of a process."""

    connector: Connector
    binding: Binding
    max_in_flight: int = 2
    round_trips: int = 0
    _waiting: list[_Waiter] = field(default_factory=list)
    _in_flight: int = 0
    _scheduled: bool = False

    async def fetch(self, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        """Rows of ``keys`` with exactly ``items``; ``SourceUnavailable`` after ``timeout`` s.
        A connector that forwards identity gets the caller's ``on_behalf_of`` (its operation's
        consumer, set by resolvers.extensions.ForwardedConsumer)."""
        future = asyncio.get_running_loop().create_future()
        on_behalf = on_behalf_of.get() if self.connector.forwards_identity else None
        waiter = _Waiter(keys, items, future, on_behalf)
        self._waiting.append(waiter)
        self._schedule()
        timeout = self.connector.timeout
        try:
            done, _ = await asyncio.wait({waiter.future}, timeout=timeout)
        finally:
            if not waiter.future.done():  # timed out, or the request was cancelled
                waiter.future.cancel()
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
        if not done:
            raise SourceUnavailable(
                f"{self.binding.target}: no answer within the source timeout of {timeout:g} s "
                "(waiting for a free slot included)",
                timeout=timeout,
            )
        return waiter.future.result()

    def _schedule(self) -> None:
        if self._waiting and not self._scheduled and self._in_flight < self.max_in_flight:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._waiting = self._waiting, []
        self._in_flight += 1
        task = asyncio.ensure_future(self._serve(batch))
        task.add_done_callback(self._served)

    def _served(self, task: asyncio.Future[None]) -> None:
        self._in_flight -= 1
        _retrieve_exception(task)
        self._schedule()

    async def _serve(self, batch: list[_Waiter]) -> None:
        if not self.connector.forwards_identity:
            await self._serve_group(batch)
            return
        groups: dict[object, list[_Waiter]] = {}
        for waiter in batch:
            groups.setdefault(waiter.on_behalf.key if waiter.on_behalf else None, []).append(waiter)
        await asyncio.gather(*(self._serve_group(group) for group in groups.values()))

    async def _serve_group(self, batch: list[_Waiter]) -> None:
        on_behalf_of.set(batch[0].on_behalf)  # this task's own context: the call's consumer
        keys = sorted({key for waiter in batch for key in waiter.keys})
        items = sorted({item for waiter in batch for item in waiter.items})
        self.round_trips += 1
        try:
            call = self.connector.fetch(self.binding, keys, items)
            rows = await within(self.connector.timeout, call, f"reading {self.binding.target}")
        except Exception as exc:
            _fail_all(batch, exc)
            return
        for waiter in batch:
            if waiter.future.done():
                continue
            try:  # one waiter's trouble is its own: the others still get their rows
                waiter.future.set_result(_narrow(rows, waiter))
            except Exception as exc:
                waiter.future.set_exception(exc)


def _narrow(rows: dict[str, Row], waiter: _Waiter) -> dict[str, Row]:
    """The waiter's keys, with exactly the waiter's items: never a column it did not ask for,
    whatever the connector returned."""
    wanted = tuple(dict.fromkeys(waiter.items))
    return {key: {i: rows[key][i] for i in wanted} for key in waiter.keys if key in rows}


def _fail_all(batch: list[_Waiter], exc: BaseException) -> None:
    for waiter in batch:
        if not waiter.future.done():
            waiter.future.set_exception(exc)


def _retrieve_exception(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
