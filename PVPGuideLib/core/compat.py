"""Stand-ins for Python 3.10+ built-ins, so the library runs on Slicer 5.6/5.8's Python 3.9."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def strict_zip(*iterables: Iterable) -> Iterator[tuple]:
    """Like the 3.10 built-in zip in its strict mode: the same tuples, and a ValueError when the inputs differ in length."""
    sentinel = object()
    iterators = [iter(it) for it in iterables]
    while True:
        items = [next(it, sentinel) for it in iterators]
        done = [item is sentinel for item in items]
        if all(done):
            return
        if any(done):
            raise ValueError(f"strict_zip: argument {done.index(True) + 1} is shorter than the others")
        yield tuple(items)
