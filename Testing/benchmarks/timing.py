"""Best-of-n wall time of a call, shared by the benchmarks (they print ratios and figures, never assert times)."""

import time


def best_of(fn, repeat=3):
    """(best seconds over `repeat` calls, the last call's result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result
