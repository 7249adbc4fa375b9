"""Exact P5/P50/P95, mean and histogram of per-path outputs, in memory bounded whatever the number of paths.

A simulation hands over its outputs chunk by chunk, in path order, as many times as asked
(``run()`` starts it again: every path is reproducible from the seed). Up to
:data:`KEEP_PATHS` paths the outputs are kept and summarised in one pass. Beyond, two passes
stream them: the first counts each output into a fine histogram (edges from the first chunk's
1st to 99th percentile, widened) and records count, minimum, maximum and the sum of each block of 256 paths; the second
keeps only the values in the few bins that hold the order statistics a percentile needs, and
counts the 20-bin histogram between the exact minimum and maximum. Memory is then a few MB
whatever the number of paths, at the price of computing every path twice.

Both ways give the same numbers, to the bit: a percentile is interpolated from its two order
statistics by one formula (NumPy's ``linear`` method), the mean is the correctly rounded sum of
the per-block sums (``math.fsum``) over the count, and histogram edges are ``linspace(min, max, 21)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

KEEP_PATHS = 1_000_000  # per-path outputs kept in memory up to this many paths (8 bytes each an output)
BLOCK = 256  # the paths a block of the simulation draws from one stream; block sums are summed exactly
QUANTILES = (("p5", 0.05), ("p50", 0.50), ("p95", 0.95))
FINE_BINS = 1 << 16  # first-pass histogram: its bins around a percentile are all the second pass keeps
HIST_BINS = 20


@dataclass
class Summary:
    """Per output: P5, P50, P95 and mean, and a 20-bin histogram; the values themselves when they were kept."""

    stats: dict[str, dict[str, float]]
    histograms: dict[str, dict[str, list[float]]]
    values: dict[str, np.ndarray] | None


def _ranks(n: int, q: float) -> tuple[int, int, float]:
    """NumPy's ``linear`` percentile: the order statistics k and k + 1 (from 0) and the weight of the second."""
    h = (n - 1) * q
    k = min(math.floor(h), n - 1)
    return k, min(k + 1, n - 1), h - k


def _lerp(a: float, b: float, t: float) -> float:
    """NumPy's interpolation between two order statistics (exact at either end)."""
    d = b - a
    return b - d * (1.0 - t) if t >= 0.5 else a + d * t


class ExactSum:
    """A running sum kept exactly (Shewchuk's non-overlapping partials, as ``math.fsum`` keeps them), so the
    result is the correctly rounded sum of everything added, in whatever groups it came: memory does not grow."""

    def __init__(self) -> None:
        self.partials: list[float] = []

    def add(self, values: np.ndarray) -> None:
        for value in values.tolist():
            x, i = value, 0
            for partial in self.partials:
                big, small = (x, partial) if abs(x) >= abs(partial) else (partial, x)
                hi = big + small
                lo = small - (hi - big)
                if lo:
                    self.partials[i] = lo
                    i += 1
                x = hi
            self.partials[i:] = [x]

    def value(self) -> float:
        return math.fsum(self.partials)


def _block_sums(v: np.ndarray) -> np.ndarray:
    """Sums of each block of 256 paths; an undefined (NaN) value adds nothing (it is counted apart)."""
    v = np.where(np.isnan(v), 0.0, v)
    return np.add.reduceat(v, np.arange(0, v.size, BLOCK)) if v.size else np.zeros(0)


def _histogram(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    return np.histogram(v[np.isfinite(v)], bins=edges)[0] if np.isfinite([lo, hi]).all() else np.zeros(HIST_BINS, int)


def _finish(n: int, total: ExactSum, order: Callable[[int], float], extremes: tuple[float, float],
            hist: np.ndarray | None) -> tuple[dict[str, float], dict[str, list[float]] | None]:  # fmt: skip
    """``n`` counts the defined values only; with none, every statistic is NaN (no value, shown as such)."""
    stats = {}
    for label, q in QUANTILES:
        k, k1, t = _ranks(n, q)
        stats[label] = float(_lerp(order(k), order(k1), t)) if n else math.nan
    stats["mean"] = total.value() / n if n else math.nan
    if hist is None:
        return stats, None
    lo, hi = extremes
    edges = np.linspace(lo, hi, HIST_BINS + 1) if np.isfinite([lo, hi]).all() else np.full(HIST_BINS + 1, np.nan)
    return stats, {"counts": hist.astype(float).tolist(), "edges": edges.tolist()}


def summarise(run: Callable[[], Iterable[dict[str, np.ndarray]]], n_paths: int, outputs: tuple[str, ...], *,
              keep: int = KEEP_PATHS, progress: Callable[[int, int], None] | None = None,
              histograms: tuple[str, ...] = ()) -> Summary:  # fmt: skip
    """Summarise the first ``n_paths`` paths of ``run()``'s chunks (block-aligned, in path order); a 20-bin
    histogram of each output named in ``histograms``."""
    if n_paths <= keep:
        return _in_memory(run, n_paths, outputs, progress, histograms)
    return _streamed(run, n_paths, outputs, progress, histograms)


def _chunks(run: Callable[[], Iterable[dict[str, np.ndarray]]], n_paths: int,
            progress: Callable[[int], None] | None) -> Iterable[dict[str, np.ndarray]]:  # fmt: skip
    """The chunks of one pass, the last cut at ``n_paths``."""
    done = 0
    for chunk in run():
        size = next(iter(chunk.values())).shape[0]
        take = min(size, n_paths - done)
        yield {k: v[:take] for k, v in chunk.items()}
        done += take
        if progress is not None:
            progress(done)
        if done >= n_paths:
            return


def _in_memory(run: Callable[[], Iterable[dict[str, np.ndarray]]], n: int, outputs: tuple[str, ...],
               progress: Callable[[int, int], None] | None, histograms: tuple[str, ...]) -> Summary:  # fmt: skip
    parts: dict[str, list[np.ndarray]] = {k: [] for k in outputs}
    report = None if progress is None else (lambda done: progress(done, n))
    for chunk in _chunks(run, n, report):
        for k in outputs:
            parts[k].append(chunk[k])
    values = {k: np.concatenate(v) for k, v in parts.items()}
    stats: dict[str, dict[str, float]] = {}
    hists: dict[str, dict[str, list[float]]] = {}
    for k, v in values.items():
        defined = v[~np.isnan(v)]
        m = defined.size
        needed = sorted({r for _, q in QUANTILES for r in _ranks(m, q)[:2]}) if m else []
        part = np.partition(defined, needed) if m else defined  # no defined value: nothing to order
        lo, hi = _finite_range(v)

        def order(r: int, p: np.ndarray = part) -> float:
            return float(p[r])

        # block sums exactly as the streamed pass makes them: chunks are whole blocks, so blocks never straddle
        total = ExactSum()
        total.add(_block_sums(v))
        stats[k], hist = _finish(m, total, order, (lo, hi), _histogram(v, lo, hi) if k in histograms else None)
        stats[k]["undefined_paths"] = float(n - m)
        if hist is not None:
            hists[k] = hist
    return Summary(stats, hists, values)


def _finite_range(v: np.ndarray) -> tuple[float, float]:
    f = v[np.isfinite(v)]
    return (float(f.min()), float(f.max())) if f.size else (math.nan, math.nan)


def _streamed(run: Callable[[], Iterable[dict[str, np.ndarray]]], n: int, outputs: tuple[str, ...],
              progress: Callable[[int, int], None] | None, histograms: tuple[str, ...]) -> Summary:  # fmt: skip
    # pass 1: count, exact finite minimum and maximum, block sums, and a fine histogram around the first chunk's range
    edges: dict[str, np.ndarray] = {}
    counts = {k: np.zeros(FINE_BINS + 2, np.int64) for k in outputs}  # [below, bins..., above]
    sums = {k: ExactSum() for k in outputs}
    lo = dict.fromkeys(outputs, math.inf)
    hi = dict.fromkeys(outputs, -math.inf)
    first_pass = (lambda done: progress(done // 2, n)) if progress is not None else None
    for chunk in _chunks(run, n, first_pass):
        for k in outputs:
            v = chunk[k]
            if k not in edges:
                edges[k] = _fine_edges(v)
            counts[k] += _fine_counts(v, edges[k])
            sums[k].add(_block_sums(v))
            f = v[np.isfinite(v)]
            if f.size:
                lo[k], hi[k] = min(lo[k], float(f.min())), max(hi[k], float(f.max()))
    # the bins that hold each order statistic a percentile needs
    wanted = {k: sorted({r for _, q in QUANTILES for r in _ranks(int(counts[k].sum()), q)[:2]}) for k in outputs}
    cum = {k: np.cumsum(counts[k]) for k in outputs}
    bins = {k: sorted({int(np.searchsorted(cum[k], r, side="right")) for r in wanted[k]}) for k in outputs}
    # pass 2: keep the values in those bins, and count the 20-bin histogram between the exact extremes
    # per wanted bin, its distinct values (sorted) and how many times each occurs
    kept = {k: {b: (np.zeros(0), np.zeros(0, np.int64)) for b in bins[k]} for k in outputs}
    hist = {k: np.zeros(HIST_BINS, np.int64) for k in outputs}
    second_pass = (lambda done: progress((n + done) // 2, n)) if progress is not None else None
    for chunk in _chunks(run, n, second_pass):
        for k in outputs:
            v = chunk[k]
            where = _fine_index(v, edges[k])
            for b in bins[k]:
                kept[k][b] = _merge(kept[k][b], v[where == b])
            if k in histograms:
                hist[k] += _histogram(v, lo[k], hi[k])
    stats: dict[str, dict[str, float]] = {}
    hists: dict[str, dict[str, list[float]]] = {}
    for k in outputs:
        m = int(cum[k][-1])  # the defined values (NaN is counted apart, never in a bin)

        def order(r: int, k: str = k) -> float:
            b = int(np.searchsorted(cum[k], r, side="right"))  # the bin holding rank r
            below = int(cum[k][b - 1]) if b else 0  # values in the bins before it
            distinct, many = kept[k][b]
            return float(distinct[int(np.searchsorted(np.cumsum(many), r - below, side="right"))])

        stats[k], summary_hist = _finish(m, sums[k], order, (lo[k], hi[k]), hist[k] if k in histograms else None)
        stats[k]["undefined_paths"] = float(n - m)
        if summary_hist is not None:
            hists[k] = summary_hist
    return Summary(stats, hists, None)


def _merge(held: tuple[np.ndarray, np.ndarray], v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts, sorted, with ``v`` added: ties (a credit of exactly 0 on most paths) cost one entry."""
    values, inverse = np.unique(np.concatenate([held[0], v]), return_inverse=True)
    weights = np.concatenate([held[1], np.ones(v.size, np.int64)])
    return values, np.bincount(inverse, weights=weights, minlength=values.size).astype(np.int64)


def _fine_edges(v: np.ndarray) -> np.ndarray:
    """Fine bins over the first chunk's 1st to 99th percentile, widened by twice that span each way (an outlier
    in the first chunk must not stretch the bins, or one bin would hold most values)."""
    f = v[np.isfinite(v)]
    a, b = (float(x) for x in np.percentile(f, [1, 99])) if f.size else (0.0, 1.0)
    span = b - a if b > a else max(abs(a), 1.0)
    return np.linspace(a - 2 * span, b + 2 * span, FINE_BINS + 1)


def _fine_index(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0 below the edges, 1..FINE_BINS inside, FINE_BINS + 1 above; NaN (no value) gets FINE_BINS + 2, no bin."""
    i = np.searchsorted(edges, v, side="right")  # 0 below, len(edges) at or above the last edge
    return np.where(np.isnan(v), FINE_BINS + 2, np.minimum(i, FINE_BINS + 1))


def _fine_counts(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(_fine_index(v, edges), minlength=FINE_BINS + 3)[: FINE_BINS + 2]
