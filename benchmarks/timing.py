"""Timing shared by the benchmarks: medians after warm-up, never single runs."""
import statistics
import time


def median_seconds(func, reps: int) -> float:
    """Median wall time of ``func`` over ``reps`` runs, after two warm-up runs."""
    func()
    func()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
