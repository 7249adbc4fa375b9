"""Exact P5/P50/P95, mean and histogram of per-path outputs, in memory bounded whatever the number of paths.

A simulation hands over its outputs chunk by chunk, in path order, as many times as asked
(``run()`` starts it again: every path is reproducible from the seed). Up to
:data:`KEEP_PATHS` paths the outputs are kept and summarised in one pass. Beyond, still one pass (no cliff: a
path costs the same on either side of :data:`KEEP_PATHS`): the first :data:`KEEP_PATHS` paths are kept, and
around each of their percentiles a window is placed, wide enough (ten standard errors of the sample's percentile)
to hold the percentile of all the paths; after them, each output keeps only the values in its windows, as
distinct values and counts (ties cost one entry), with how many values fell below each window, and a histogram's
output is kept whole (its 20 bins run between the exact extremes, known only at the end). When every order
statistic a percentile needs fell in a window, the pass gives the summary.

Otherwise (the later paths were unlike the first, or the windows would outgrow :data:`STREAM_BUDGET_BYTES`,
which the first paths show: past about 20 million paths of a deal with the default drivers, which keep 9.9 bytes
a path), two passes do it in a few MB: the first counts each output into a fine histogram (edges from the first
chunk's 1st to 99th percentile, widened), the second keeps only the values in the few bins that hold the order
statistics a percentile needs, and counts the 20-bin histogram between the exact minimum and maximum.

Every way gives the same numbers, to the bit: a percentile is interpolated from its two order
statistics by one formula (NumPy's ``linear`` method), the mean is the correctly rounded sum of
the per-block sums (``math.fsum``) over the count, and histogram edges are ``linspace(min, max, 21)``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

KEEP_PATHS = 1_000_000  # per-path outputs kept in memory up to this many paths (8 bytes each an output)
BLOCK = 256  # the paths a block of the simulation draws from one stream; block sums are summed exactly
QUANTILES = (("p5", 0.05), ("p50", 0.50), ("p95", 0.95))
FINE_BINS = 1 << 16  # first-pass histogram: its bins around a percentile are all the second pass keeps
HIST_BINS = 20
STREAM_BUDGET_BYTES = 384 << 20
"""Above :data:`KEEP_PATHS`, the most the one pass keeps (the windows' values and a histogram's output): it starts
only when the first paths project at most half of it over the run, and gives up (two more passes) past it."""


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
        """The correctly rounded sum; NaN where an infinity or a sum past the largest float came on the way (fsum
        would raise on the infinite partials that leaves: a summary shows n/a, never a traceback)."""
        try:
            return math.fsum(self.partials)
        except (ValueError, OverflowError):
            return math.nan


class KeptSum:
    """The same correctly rounded sum as :class:`ExactSum`, of few enough values to keep them all (a kept run's
    block sums: at most 3,907 an output): ``math.fsum`` once at the end, in C, where ExactSum loops in Python."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        self.parts.append(values)

    def value(self) -> float:
        values = np.concatenate(self.parts) if self.parts else np.zeros(0)
        if np.isfinite(values).all():
            try:
                return math.fsum(values.tolist())
            except OverflowError:  # an intermediate sum past the largest float: ExactSum says NaN, as below
                pass
        exact = ExactSum()  # infinities: ExactSum's NaN, where fsum would give inf or raise
        exact.add(values)
        return exact.value()


def _block_sums(v: np.ndarray) -> np.ndarray:
    """Sums of each block of 256 paths; an undefined (NaN) value adds nothing (it is counted apart)."""
    v = np.where(np.isnan(v), 0.0, v)
    return np.add.reduceat(v, np.arange(0, v.size, BLOCK)) if v.size else np.zeros(0)


def _histogram(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    return np.histogram(v[np.isfinite(v)], bins=edges)[0] if np.isfinite([lo, hi]).all() else np.zeros(HIST_BINS, int)


def _finish(n: int, total: ExactSum | KeptSum, order: Callable[[int], float], extremes: tuple[float, float],
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
              histograms: tuple[str, ...] = (), threads: int = 1) -> Summary:  # fmt: skip
    """Summarise the first ``n_paths`` paths of ``run()``'s chunks (block-aligned, in path order); a 20-bin
    histogram of each output named in ``histograms``. ``threads`` > 1 orders a kept run's outputs that many at a time
    after the last chunk (a run on worker processes: their cores are free then; NumPy's partition releases the
    interpreter)."""
    if n_paths <= keep:
        return _in_memory(run, n_paths, outputs, progress, histograms, threads=threads)
    return _streamed(run, n_paths, outputs, progress, histograms=histograms, sample=max(keep, BLOCK))


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
               progress: Callable[[int, int], None] | None, histograms: tuple[str, ...], *,
               threads: int = 1) -> Summary:  # fmt: skip
    """Every path kept. The sums and extremes are taken chunk by chunk as the chunks arrive (while worker processes
    compute the next ones); only the order statistics wait for the last chunk."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in outputs}
    first = _new_pass(outputs, counted=False, kept=True)  # block sums exactly as the streamed pass makes them
    report = None if progress is None else (lambda done: progress(done, n))
    for chunk in _chunks(run, n, report):
        for k in outputs:
            parts[k].append(chunk[k])
            first.add(k, chunk[k], count=False)
    values = {k: np.concatenate(v) for k, v in parts.items()}
    stats: dict[str, dict[str, float]] = {}
    hists: dict[str, dict[str, list[float]]] = {}
    for k, defined in _each_ordered(values, threads):
        v = values[k]
        m = defined.size
        lo, hi = (first.lo[k], first.hi[k]) if first.lo[k] <= first.hi[k] else (math.nan, math.nan)  # none finite

        def order(r: int, p: np.ndarray = defined) -> float:
            return float(p[r])

        stats[k], hist = _finish(m, first.sums[k], order, (lo, hi), _histogram(v, lo, hi) if k in histograms else None)
        stats[k]["undefined_paths"] = float(n - m)
        if hist is not None:
            hists[k] = hist
    return Summary(stats, hists, values)


def _each_ordered(values: dict[str, np.ndarray], threads: int) -> Iterator[tuple[str, np.ndarray]]:
    """Each output's ordered defined values (:func:`_ordered`), in order; on ``threads`` threads, the next ones
    ordered while one is read, never more than ``threads`` copies held at once (a million paths: 8 MB each), as
    one at a time holds one."""
    keys = list(values)
    if threads <= 1:
        for k in keys:
            yield k, _ordered(values[k])
        return
    with ThreadPoolExecutor(threads) as pool:
        pending = deque(pool.submit(_ordered, values[k]) for k in keys[:threads])
        for i, k in enumerate(keys):
            done = pending.popleft().result()
            yield k, done
            del done  # read: the next one takes its place
            if i + threads < len(keys):
                pending.append(pool.submit(_ordered, values[keys[i + threads]]))


def _ordered(v: np.ndarray) -> np.ndarray:
    """The defined values of ``v`` (a copy), partitioned at the order statistics the percentiles read."""
    defined = v[~np.isnan(v)]
    if defined.size:
        defined.partition(sorted({r for _, q in QUANTILES for r in _ranks(defined.size, q)[:2]}))
    return defined


def _streamed(run: Callable[[], Iterable[dict[str, np.ndarray]]], n: int, outputs: tuple[str, ...],
              progress: Callable[[int, int], None] | None, *, histograms: tuple[str, ...], sample: int) -> Summary:  # fmt: skip
    """One pass where the windows hold every order statistic (almost always); else a pass that counts the fine bins
    (the same pass, when the first paths show the windows would outgrow their budget) and one that keeps those bins."""
    first = _one_pass(run, n, outputs, progress, histograms=histograms, sample=sample)
    if first.summary is not None:
        return first.summary
    if not first.counted:
        first = _count_pass(run, n, outputs, progress)
    return _second_pass(run, n, outputs, progress, histograms=histograms, first=first)


@dataclass
class _FirstPass:
    """What a first pass learnt: exact extremes and block sums, and (``counted``) the fine bins' counts; the summary,
    when the pass could finish it."""

    edges: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]
    sums: dict[str, ExactSum | KeptSum]
    lo: dict[str, float]
    hi: dict[str, float]
    counted: bool = True
    summary: Summary | None = None

    def add(self, k: str, v: np.ndarray, count: bool) -> None:
        """Output ``k``'s values ``v`` into the block sums and extremes, and (``count``) the fine bins."""
        self.sums[k].add(_block_sums(v))
        f = v[np.isfinite(v)]
        if f.size:
            self.lo[k], self.hi[k] = min(self.lo[k], float(f.min())), max(self.hi[k], float(f.max()))
        if count:
            self.count(k, v)

    def count(self, k: str, v: np.ndarray) -> None:
        """Output ``k``'s values into the fine bins (their edges from the first values counted)."""
        if k not in self.edges:
            self.edges[k] = _fine_edges(v)
        self.counts[k] += _fine_counts(v, self.edges[k])


def _new_pass(outputs: tuple[str, ...], counted: bool, *, kept: bool = False) -> _FirstPass:
    """A pass's running figures; ``kept`` (every path kept, so at most :data:`KEEP_PATHS`) sums with KeptSum and
    never counts fine bins."""
    sums: dict[str, ExactSum | KeptSum] = {k: KeptSum() if kept else ExactSum() for k in outputs}
    counts = {} if kept else {k: np.zeros(FINE_BINS + 2, np.int64) for k in outputs}
    return _FirstPass({}, counts, sums,
                      dict.fromkeys(outputs, math.inf), dict.fromkeys(outputs, -math.inf), counted)  # fmt: skip


def _count_pass(run: Callable[[], Iterable[dict[str, np.ndarray]]], n: int, outputs: tuple[str, ...],
                progress: Callable[[int, int], None] | None) -> _FirstPass:  # fmt: skip
    """Count, exact finite minimum and maximum, block sums, and a fine histogram around the first chunk's range."""
    first = _new_pass(outputs, counted=True)
    report = (lambda done: progress(done, n)) if progress is not None else None  # the bar runs again
    for chunk in _chunks(run, n, report):
        for k in outputs:
            first.add(k, chunk[k], count=True)
    return first


class _Window:
    """The values of one output between ``a`` and ``b`` (inclusive), as distinct values and counts per chunk, and how
    many defined values fell below ``a``: rank r is in the window when below <= r < below + inside."""

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b
        self.below = 0
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.entries = 0

    def add(self, v: np.ndarray) -> None:
        self.below += int(np.count_nonzero(v < self.a))
        inside = v[(v >= self.a) & (v <= self.b)]
        if inside.size:
            self.parts.append(np.unique(inside, return_counts=True))
            self.entries += self.parts[-1][0].size

    def order(self, r: int) -> float | None:
        """The value of rank ``r`` among the defined values, or None when the window does not hold it."""
        if r < self.below or not self.parts:
            return None
        values = np.concatenate([p[0] for p in self.parts])
        many = np.concatenate([p[1] for p in self.parts])
        order = np.argsort(values, kind="stable")
        cum = np.cumsum(many[order])
        if r - self.below >= int(cum[-1]):
            return None
        return float(values[order][int(np.searchsorted(cum, r - self.below, side="right"))])


def _windows(held: np.ndarray) -> list[_Window]:
    """Around each percentile of the first paths' defined values, a window wide enough (ten standard errors of the
    sample's percentile, and ranks enough for the interpolation) to hold the percentile of all the paths."""
    defined = held[~np.isnan(held)]
    m = defined.size
    if not m:
        return []
    ends = []
    for _, q in QUANTILES:
        half = 10.0 * math.sqrt(q * (1.0 - q) / m) + 2.0 / m
        ends.append((max(math.floor((q - half) * m), 0), min(math.ceil((q + half) * m), m - 1)))
    # the values of those ranks only: a partition at them (linear), not a sort of a million values per output
    ordered = np.partition(defined, sorted({r for pair in ends for r in pair}))
    return [_Window(-math.inf if i == 0 else float(ordered[i]), math.inf if j == m - 1 else float(ordered[j]))
            for i, j in ends]  # fmt: skip


def _defined(v: np.ndarray) -> int:
    return v.size - int(np.count_nonzero(np.isnan(v)))


def _one_pass(run: Callable[[], Iterable[dict[str, np.ndarray]]], n: int, outputs: tuple[str, ...],
              progress: Callable[[int, int], None] | None, *, histograms: tuple[str, ...],
              sample: int) -> _FirstPass:  # fmt: skip
    """Exact extremes, block sums and the defined count of every output; the first ``sample`` paths kept, each
    output's windows placed from them, then only what falls in the windows kept (a histogram's output whole: its 20
    bins need the exact extremes, known only at the end). When the first paths show the values kept would outgrow
    :data:`STREAM_BUDGET_BYTES`, the pass counts the fine bins instead (``counted``), for a second pass. The summary,
    when every order statistic a percentile needs fell in a window."""
    first = _new_pass(outputs, counted=False)
    defined = dict.fromkeys(outputs, 0)
    held: dict[str, list[np.ndarray]] = {k: [] for k in outputs}
    windows: dict[str, list[_Window]] | None = None
    held_paths, gave_up = 0, False
    report = (lambda done: progress(done, n)) if progress is not None else None
    for chunk in _chunks(run, n, report):
        for k in outputs:
            v = chunk[k]
            first.add(k, v, count=first.counted)
            if first.counted or gave_up:
                continue
            if windows is None or k in histograms:
                held[k].append(v)
            else:
                defined[k] += _defined(v)
                for w in windows[k]:
                    w.add(v)
        held_paths += next(iter(chunk.values())).shape[0]
        if windows is None and not first.counted and not gave_up and held_paths >= sample:
            windows = {}
            for k in outputs:
                if k in histograms:
                    continue
                whole = np.concatenate(held[k])  # one output at a time: one copy held
                windows[k] = _windows(whole)
                defined[k] += _defined(whole)
                for w in windows[k]:
                    w.add(whole)  # the same counts and distinct values as chunk by chunk, in one call
            kept = _kept_bytes(held, windows, histograms)
            if kept / held_paths * n > STREAM_BUDGET_BYTES / 2:  # too much to keep: count the fine bins for a second pass
                first.counted, windows = True, None
                for k in outputs:
                    for part in held[k]:
                        first.count(k, part)  # already in the sums and extremes
                held = {k: [] for k in outputs}
            else:
                held = {k: (v if k in histograms else []) for k, v in held.items()}
        elif windows is not None and _kept_bytes(held, windows, histograms) > STREAM_BUDGET_BYTES:
            windows, held, gave_up = None, {k: [] for k in outputs}, True  # later paths unlike the first: two passes
    if first.counted or gave_up:
        return first
    stats: dict[str, dict[str, float]] = {}
    hists: dict[str, dict[str, list[float]]] = {}
    for k in outputs:
        if windows is None or k in histograms:  # every value held
            values = np.concatenate(held[k]) if held[k] else np.zeros(0)
            kept_defined = values[~np.isnan(values)]
            m = kept_defined.size
            needed = sorted({r for _, q in QUANTILES for r in _ranks(m, q)[:2]}) if m else []
            part = np.partition(kept_defined, needed) if m else kept_defined

            def held_order(r: int, p: np.ndarray = part) -> float:
                return float(p[r])

            order: Callable[[int], float] = held_order
            hist = _histogram(values, first.lo[k], first.hi[k]) if k in histograms else None
        else:
            m = defined[k]
            found: dict[int, float] = {}
            for r in sorted({r for _, q in QUANTILES for r in _ranks(m, q)[:2]}) if m else []:
                value = next((x for w in windows[k] if (x := w.order(r)) is not None), None)
                if value is None:
                    return first  # a window missed (the first paths were not like the rest): two more passes
                found[r] = value
            order = found.__getitem__
            hist = None
        stats[k], summary_hist = _finish(m, first.sums[k], order, (first.lo[k], first.hi[k]), hist)
        stats[k]["undefined_paths"] = float(n - m)
        if summary_hist is not None:
            hists[k] = summary_hist
    first.summary = Summary(stats, hists, None)
    return first


def _kept_bytes(held: dict[str, list[np.ndarray]], windows: dict[str, list[_Window]], histograms: tuple[str, ...]) -> int:
    """What the one pass keeps: a histogram's output whole, the others' windows (a value and its count each)."""
    return sum(8 * a.size for k in histograms for a in held[k]) + sum(16 * w.entries for ws in windows.values() for w in ws)


def _second_pass(run: Callable[[], Iterable[dict[str, np.ndarray]]], n: int, outputs: tuple[str, ...],
                 progress: Callable[[int, int], None] | None, *, histograms: tuple[str, ...],
                 first: _FirstPass) -> Summary:  # fmt: skip
    """Keep the values in the fine bins that hold the order statistics a percentile needs, and count the 20-bin
    histogram between the exact extremes."""
    edges, counts, sums, lo, hi = first.edges, first.counts, first.sums, first.lo, first.hi
    wanted = {k: sorted({r for _, q in QUANTILES for r in _ranks(int(counts[k].sum()), q)[:2]}) for k in outputs}
    cum = {k: np.cumsum(counts[k]) for k in outputs}
    bins = {k: sorted({int(np.searchsorted(cum[k], r, side="right")) for r in wanted[k]}) for k in outputs}
    # per wanted bin, its distinct values (sorted) and how many times each occurs
    kept = {k: {b: (np.zeros(0), np.zeros(0, np.int64)) for b in bins[k]} for k in outputs}
    hist = {k: np.zeros(HIST_BINS, np.int64) for k in outputs}
    report = (lambda done: progress(done, n)) if progress is not None else None  # the bar runs again
    for chunk in _chunks(run, n, report):
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
