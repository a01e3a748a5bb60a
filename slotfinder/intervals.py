"""Interval algebra on integer epoch seconds, vectorised with numpy.

A set of half-open spans ``[start, end)`` is a pair of int64 arrays ``(starts, ends)``
(:data:`SpanArrays`) in *normal form*: sorted, disjoint, non-touching (``[1, 2)`` and ``[2, 3)``
are one span ``[1, 3)``) and each of positive length. :func:`normalize` brings any pair of
sequences into that form; every other function expects normal-form inputs and returns normal
form, as fresh contiguous int64 arrays that share no memory with the inputs.

Nothing here loops over spans in Python. The one kernel is a sweep line (:func:`coverage`):
all endpoints are packed into one int64 key each (``time * 2 + is_start``, so ends sort before
starts at equal times), sorted once, and a cumulative sum counts how many sets cover each
stretch. Union, intersection, normalisation and k-of-n coverage are that sweep with different
thresholds; difference and complement are linear passes.

Times must lie in ``[TIME_MIN, TIME_MAX]`` (about +-73 billion years) so that the packed keys
fit in int64; :class:`SpanSet` uses that range as its universe for ``~``.

:class:`SpanSet` wraps the arrays in an immutable, hashable value with portion-style operators.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from slotfinder.errors import InputError

__all__ = [
    "TIME_MAX",
    "TIME_MIN",
    "SpanArrays",
    "SpanSet",
    "clip",
    "complement",
    "contains_span",
    "coverage",
    "covering_index",
    "difference",
    "empty",
    "intersect",
    "intersect_all",
    "normalize",
    "total",
    "union",
    "union_all",
    "whole",
    "widen",
]

Int64Array: TypeAlias = npt.NDArray[np.int64]
SpanArrays: TypeAlias = tuple[Int64Array, Int64Array]

TIME_MIN = -(2**61)
TIME_MAX = 2**61


def _arr(values: Any) -> Int64Array:
    return np.ascontiguousarray(values, dtype=np.int64).ravel()


def empty() -> SpanArrays:
    """The empty set of spans."""
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)


def _check_range(lo: int, hi: int) -> None:
    if lo < TIME_MIN or hi > TIME_MAX:
        raise InputError(
            "time", lo if lo < TIME_MIN else hi, f"must lie in [{TIME_MIN}, {TIME_MAX}]"
        )


def _join(starts: Int64Array, ends: Int64Array) -> SpanArrays:
    """Merge overlapping or touching neighbours of spans whose starts AND ends are sorted."""
    if starts.size <= 1:
        return starts, ends
    brk = starts[1:] > ends[:-1]
    if brk.all():
        return starts, ends
    keep_start = np.empty(starts.size, dtype=bool)
    keep_start[0] = True
    keep_start[1:] = brk
    keep_end = np.empty(ends.size, dtype=bool)
    keep_end[-1] = True
    keep_end[:-1] = brk
    return starts[keep_start], ends[keep_end]


def _sweep(starts: Int64Array, ends: Int64Array, k: int) -> SpanArrays:
    """Where at least ``k`` of the given positive-length spans overlap, in normal form.

    The spans may come in any order and may overlap; each one counts once.
    """
    m = starts.size
    if m == 0:
        return empty()
    _check_range(int(starts.min()), int(ends.max()))
    keys = np.empty(2 * m, dtype=np.int64)
    np.multiply(starts, 2, out=keys[:m])
    keys[:m] += 1  # starts get the odd key: after every end at the same instant
    np.multiply(ends, 2, out=keys[m:])
    keys.sort()
    is_start = (keys & 1).astype(bool)
    step = np.where(is_start, np.int32(1), np.int32(-1))
    count = np.cumsum(step, dtype=np.int32)
    # Counts move by one at a time, so reaching k from below is "count == k after a start"
    # and leaving it is "count == k - 1 after an end".
    up = is_start & (count == k)
    down = ~is_start & (count == k - 1)
    out_starts = np.ascontiguousarray(keys[up] >> 1)
    out_ends = np.ascontiguousarray(keys[down] >> 1)
    # Ends sort before starts at one instant, so a piece ending where another begins leaves a
    # touching pair; join them (the pieces are sorted and disjoint, so this is linear).
    return _join(out_starts, out_ends)


def normalize(starts: Any, ends: Any) -> SpanArrays:
    """Normal form of arbitrary spans: drop empty ones, sort, merge overlapping and touching.

    ``starts`` and ``ends`` are any equal-length sequences or arrays of integers.
    """
    s, e = _arr(starts), _arr(ends)
    if s.shape != e.shape:
        raise InputError("ends", e.shape, f"must have the same length as starts {s.shape}")
    keep = e > s
    if not keep.all():
        s, e = s[keep], e[keep]
    return _sweep(s, e, 1)


def coverage(sets: Sequence[SpanArrays], k: int) -> SpanArrays:
    """Where at least ``k`` of the normal-form ``sets`` cover, in one sort of all endpoints.

    ``k`` must be positive; ``k`` above ``len(sets)`` gives the empty set. O(N log N) in the
    total number N of spans.
    """
    if k <= 0:
        raise InputError("k", k, "must be at least 1")
    if k > len(sets) or not sets:
        return empty()
    if len(sets) == 1:
        s, e = sets[0]
        return _arr(s).copy(), _arr(e).copy()
    starts = np.concatenate([_arr(s) for s, _ in sets])
    ends = np.concatenate([_arr(e) for _, e in sets])
    return _sweep(starts, ends, k)


def union(a: SpanArrays, b: SpanArrays) -> SpanArrays:
    """Time in ``a`` or ``b``."""
    return coverage((a, b), 1)


def intersect(a: SpanArrays, b: SpanArrays) -> SpanArrays:
    """Time in both ``a`` and ``b``."""
    if a[0].size == 0 or b[0].size == 0:
        return empty()
    return coverage((a, b), 2)


def union_all(sets: Sequence[SpanArrays]) -> SpanArrays:
    """Time in any of ``sets`` (empty for no sets)."""
    return coverage(sets, 1) if sets else empty()


def intersect_all(sets: Sequence[SpanArrays], start: int, end: int) -> SpanArrays:
    """Time inside ``[start, end)`` in every one of ``sets``; no sets gives all of it."""
    if not sets:
        return whole(start, end)
    if any(s.size == 0 for s, _ in sets):
        return empty()
    return clip(coverage(sets, len(sets)), start, end)


def whole(start: int, end: int) -> SpanArrays:
    """The one span ``[start, end)`` (empty when ``end <= start``)."""
    if end <= start:
        return empty()
    _check_range(start, end)
    return np.array([start], dtype=np.int64), np.array([end], dtype=np.int64)


def clip(a: SpanArrays, start: int, end: int) -> SpanArrays:
    """The part of ``a`` inside ``[start, end)``."""
    s, e = a
    if end <= start or s.size == 0:
        return empty()
    i = int(np.searchsorted(e, start, side="right"))  # first span ending after start
    j = int(np.searchsorted(s, end, side="left"))  # spans starting before end
    if i >= j:
        return empty()
    out_s = np.array(s[i:j], dtype=np.int64)
    out_e = np.array(e[i:j], dtype=np.int64)
    out_s[0] = max(int(out_s[0]), start)
    out_e[-1] = min(int(out_e[-1]), end)
    return out_s, out_e


def complement(a: SpanArrays, start: int, end: int) -> SpanArrays:
    """The time inside ``[start, end)`` that ``a`` does not cover."""
    if end <= start:
        return empty()
    s, e = clip(a, start, end)
    gap_s = np.empty(s.size + 1, dtype=np.int64)
    gap_e = np.empty(s.size + 1, dtype=np.int64)
    gap_s[0] = start
    gap_s[1:] = e
    gap_e[:-1] = s
    gap_e[-1] = end
    keep = gap_e > gap_s
    if keep.all():
        return gap_s, gap_e
    return gap_s[keep], gap_e[keep]


def difference(a: SpanArrays, b: SpanArrays) -> SpanArrays:
    """Time in ``a`` and not in ``b``."""
    if a[0].size == 0 or b[0].size == 0:
        return _arr(a[0]).copy(), _arr(a[1]).copy()
    lo, hi = int(a[0][0]), int(a[1][-1])
    return intersect(a, complement(b, lo, hi))


def widen(a: SpanArrays, before: int, after: int) -> SpanArrays:
    """Each span ``[s, e)`` becomes ``[s - before, e + after)``, renormalised.

    Negative amounts shrink spans (those that vanish are dropped). Linear: a uniform shift keeps
    starts and ends sorted, so only neighbours can merge.
    """
    s = _arr(a[0]) - before
    e = _arr(a[1]) + after
    if s.size:
        _check_range(int(s[0]), int(e[-1]))
    if before + after < 0:
        keep = e > s
        s, e = s[keep], e[keep]
    return _join(s, e)


def total(a: SpanArrays) -> int:
    """Sum of the lengths, in seconds."""
    return int(np.sum(a[1] - a[0]))


def covering_index(a: SpanArrays, points_start: Any, points_end: Any) -> Int64Array:
    """For each query ``[ps, pe)`` the index of the span of ``a`` holding it whole, else -1.

    Vectorised over the queries (binary search). An empty query (``pe <= ps``) gives -1.
    """
    ps, pe = _arr(points_start), _arr(points_end)
    s, e = a
    if s.size == 0:
        return np.full(ps.shape, -1, dtype=np.int64)
    idx = np.searchsorted(s, ps, side="right").astype(np.int64) - 1
    safe = np.maximum(idx, 0)
    ok = (idx >= 0) & (pe <= e[safe]) & (pe > ps)
    return np.where(ok, idx, np.int64(-1))


def contains_span(a: SpanArrays, s: int, e: int) -> bool:
    """True when ``[s, e)`` (of positive length) lies wholly inside one span of ``a``."""
    return bool(covering_index(a, [s], [e])[0] >= 0)


def _contains_instant(a: SpanArrays, t: int) -> bool:
    i = int(np.searchsorted(a[0], t, side="right")) - 1
    return i >= 0 and t < int(a[1][i])


def _readonly(arr: Int64Array) -> Int64Array:
    arr.setflags(write=False)
    return arr


class SpanSet:
    """An immutable, hashable set of half-open spans of epoch seconds.

    Normalised on construction (sorted, merged). Operators ``&`` ``|`` ``-`` ``~`` with the
    named aliases :meth:`intersection`, :meth:`union`, :meth:`difference`, :meth:`complement`.
    ``~s`` is the complement within the whole representable timeline
    ``[TIME_MIN, TIME_MAX)``, so ``~~s == s``; ``s.complement(start, end)`` is the complement
    inside a window. ``t in s`` tests an instant, ``(t0, t1) in s`` a whole span; iteration
    yields ``(start, end)`` integer pairs.

    >>> a = SpanSet.of((0, 10), (20, 30))
    >>> list(a | SpanSet.of((10, 20)))
    [(0, 30)]
    >>> list(a.complement(0, 40))
    [(10, 20), (30, 40)]
    """

    __slots__ = ("_e", "_hash", "_s")

    _s: Int64Array
    _e: Int64Array
    _hash: int | None

    def __init__(self, starts: Any = (), ends: Any = ()) -> None:
        s, e = normalize(starts, ends)
        self._s, self._e = _readonly(s), _readonly(e)
        self._hash = None

    @classmethod
    def of(cls, *spans: tuple[int, int]) -> SpanSet:
        """Build from ``(start, end)`` pairs."""
        return cls.from_pairs(spans)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[int, int]]) -> SpanSet:
        """Build from an iterable of ``(start, end)`` pairs."""
        data = np.array(list(pairs), dtype=np.int64).reshape(-1, 2)
        return cls(data[:, 0], data[:, 1])

    @classmethod
    def from_arrays(cls, arrays: SpanArrays) -> SpanSet:
        """Wrap arrays already in normal form (not checked; copies them)."""
        out = cls.__new__(cls)
        out._s = _readonly(np.array(arrays[0], dtype=np.int64))
        out._e = _readonly(np.array(arrays[1], dtype=np.int64))
        out._hash = None
        return out

    @property
    def arrays(self) -> SpanArrays:
        """The read-only ``(starts, ends)`` arrays."""
        return self._s, self._e

    @property
    def total(self) -> int:
        """Covered seconds."""
        return total(self.arrays)

    # named operations
    def union(self, other: SpanSet) -> SpanSet:
        return SpanSet.from_arrays(union(self.arrays, other.arrays))

    def intersection(self, other: SpanSet) -> SpanSet:
        return SpanSet.from_arrays(intersect(self.arrays, other.arrays))

    def difference(self, other: SpanSet) -> SpanSet:
        return SpanSet.from_arrays(difference(self.arrays, other.arrays))

    def complement(self, start: int = TIME_MIN, end: int = TIME_MAX) -> SpanSet:
        """What is not covered inside ``[start, end)`` (default: the whole timeline)."""
        return SpanSet.from_arrays(complement(self.arrays, start, end))

    def clip(self, start: int, end: int) -> SpanSet:
        return SpanSet.from_arrays(clip(self.arrays, start, end))

    def widen(self, before: int, after: int) -> SpanSet:
        return SpanSet.from_arrays(widen(self.arrays, before, after))

    # operators
    def __or__(self, other: object) -> SpanSet:
        if not isinstance(other, SpanSet):
            return NotImplemented
        return self.union(other)

    def __and__(self, other: object) -> SpanSet:
        if not isinstance(other, SpanSet):
            return NotImplemented
        return self.intersection(other)

    def __sub__(self, other: object) -> SpanSet:
        if not isinstance(other, SpanSet):
            return NotImplemented
        return self.difference(other)

    def __invert__(self) -> SpanSet:
        return self.complement()

    def __contains__(self, item: object) -> bool:
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            return _contains_instant(self.arrays, int(item))
        if isinstance(item, tuple) and len(item) == 2:
            return contains_span(self.arrays, int(item[0]), int(item[1]))
        raise TypeError(f"SpanSet holds instants (int) or spans (start, end), not {item!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpanSet):
            return NotImplemented
        return np.array_equal(self._s, other._s) and np.array_equal(self._e, other._e)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._s.tobytes(), self._e.tobytes()))
        return self._hash

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._s.tolist(), self._e.tolist(), strict=True)

    def __len__(self) -> int:
        """Number of separate spans."""
        return int(self._s.size)

    def __bool__(self) -> bool:
        return bool(self._s.size)

    def __repr__(self) -> str:
        inner = ", ".join(f"({s}, {e})" for s, e in self)
        return f"SpanSet.of({inner})"
