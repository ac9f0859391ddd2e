"""Small statistics for benchmark samples."""

from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of the samples fall (nearest rank); 0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(int(fraction * len(ordered)), len(ordered) - 1)
    return ordered[index]


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds of samples in seconds."""
    return {f"p{int(q * 100)}_ms": round(percentile(samples_s, q) * 1000, 2) for q in (0.5, 0.95, 0.99)}
