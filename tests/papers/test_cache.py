"""The project's one process cache: bounded regions that forget the least recently used entry."""

from __future__ import annotations

from papers import cache


def test_it_makes_a_value_once_and_returns_it_again() -> None:
    made: list[str] = []
    region = cache.region("test once", 2)
    for _ in range(3):
        assert region.get_or_make("k", lambda: made.append("k") or "value") == "value"
    assert made == ["k"]


def test_it_forgets_the_least_recently_used_entry_when_full() -> None:
    region = cache.region("test lru", 2)
    region.get_or_make("a", lambda: 1)
    region.get_or_make("b", lambda: 2)
    region.get_or_make("a", lambda: 0)  # used again: "b" is now the oldest
    region.get_or_make("c", lambda: 3)
    assert region.get_or_make("a", lambda: -1) == 1
    assert region.get_or_make("b", lambda: -2) == -2  # made again


def test_reset_empties_every_region() -> None:
    region = cache.region("test reset", 2)
    region.get_or_make("a", lambda: 1)
    cache.reset()
    assert len(region) == 0 and region.get_or_make("a", lambda: 2) == 2


def test_it_keeps_a_decorated_functions_results_by_its_arguments() -> None:
    calls: list[tuple[int, int]] = []

    @cache.kept("test kept", 2)
    def add(a: int, b: int) -> int:
        calls.append((a, b))
        return a + b

    assert [add(1, 2), add(1, 2), add(2, 1), add(1, b=2)] == [3, 3, 3, 3]
    assert calls == [(1, 2), (2, 1), (1, 2)]  # a keyword argument is another key
    cache.reset()
    assert add(1, 2) == 3 and len(calls) == 4
