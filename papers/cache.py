"""The project's one process cache: what a process reuses from one call to the next.

papers is the app the other two build on, so the cache lives here and every
app can use it. Each kind of reusable result lives in a named
:class:`Region`; every region evicts its least recently used entry when full,
and keys are values (a paper's fields, a set of candidates, a model's version),
never object identities, so a stale entry can only be one that is no longer
asked for. A function whose results are kept says so with ``@kept(name,
size)``, which uses a region of its own. ``reset()`` empties every region: the
test suite calls it between tests, and benchmarks/RESULTS.md records what each
region earns.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, ParamSpec, TypeVar

V = TypeVar("V")
P = ParamSpec("P")


class Region(Generic[V]):
    """A bounded mapping that forgets its least recently used entry when full."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """Return the value kept for ``key``, or make, keep and return it."""
        entries = self._entries
        value = entries.get(key)
        if value is None:
            value = entries[key] = make()
            if len(entries) > self.size:
                entries.popitem(last=False)
        else:
            entries.move_to_end(key)
        return value

    def found(self, keys: Iterable[Hashable]) -> dict[Hashable, V]:
        """Return the values kept for those of ``keys`` that have one (each becomes the most recent)."""
        entries = self._entries
        found: dict[Hashable, V] = {}
        for key in keys:
            value = entries.get(key)
            if value is not None:
                entries.move_to_end(key)
                found[key] = value
        return found

    def keep(self, key: Hashable, value: V) -> None:
        """Keep ``value`` for ``key``, forgetting the least recently used entry when full."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_REGIONS: dict[str, Region[object]] = {}


def region(name: str, size: int) -> Region:  # type: ignore[type-arg]
    """Return the region called ``name`` (made with room for ``size`` entries on first use)."""
    found = _REGIONS.get(name)
    if found is None:
        found = _REGIONS[name] = Region(name, size)
    return found


def reset() -> None:
    """Empty every region (between tests, or after templates or settings change)."""
    for kept in _REGIONS.values():
        kept.clear()


def kept(name: str, size: int) -> Callable[[Callable[P, V]], Callable[P, V]]:
    """Decorate a function so that its results are kept in the region ``name``, keyed by its arguments.

    The arguments must be hashable values and the function must not return None.
    """

    def decorate(function: Callable[P, V]) -> Callable[P, V]:
        kept_in = region(name, size)

        @functools.wraps(function)
        def keeping(*args: P.args, **kwargs: P.kwargs) -> V:
            key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
            return kept_in.get_or_make(key, lambda: function(*args, **kwargs))

        return keeping

    return decorate
