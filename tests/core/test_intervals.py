"""Properties of the vectorised span algebra against a brute-force model.

The model of a span set is the set of integer seconds it covers in a small universe; two span
sets in normal form are equal exactly when they cover the same seconds.
"""

from __future__ import annotations

import numpy as np
import portion as P
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder import intervals as iv
from slotfinder.errors import InputError
from slotfinder.intervals import SpanArrays, SpanSet

U = 80  # universe [0, U) of the brute-force model
LO, HI = 5, 70  # a window inside the universe

raw_spans = st.lists(
    st.tuples(st.integers(0, U - 10), st.integers(-3, 12)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=12,
)


def _norm(pairs: list[tuple[int, int]]) -> SpanArrays:
    return iv.normalize([p[0] for p in pairs], [p[1] for p in pairs])


span_sets = raw_spans.map(_norm)


def seconds(a: SpanArrays) -> frozenset[int]:
    """The integer seconds covered (the brute-force model)."""
    return frozenset(
        t for s, e in zip(a[0].tolist(), a[1].tolist(), strict=True) for t in range(s, e)
    )


def from_seconds(points: frozenset[int] | set[int]) -> SpanArrays:
    """The normal form of a set of seconds, built by walking them one by one."""
    starts, ends = [], []
    for t in sorted(points):
        if ends and ends[-1] == t:
            ends[-1] = t + 1
        else:
            starts.append(t)
            ends.append(t + 1)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


def same(a: SpanArrays, b: SpanArrays) -> bool:
    return np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def assert_normal(a: SpanArrays) -> None:
    s, e = a
    assert s.dtype == np.int64
    assert e.dtype == np.int64
    assert s.flags.c_contiguous
    assert e.flags.c_contiguous
    assert s.shape == e.shape
    assert np.all(e > s)
    assert np.all(s[1:] > e[:-1])  # sorted, disjoint and not touching


@given(raw_spans)
def test_normalize_invariants_and_cover(pairs: list[tuple[int, int]]) -> None:
    """normalize yields sorted, disjoint, non-touching int64 spans covering exactly the input."""
    a = _norm(pairs)
    assert_normal(a)
    expected = {t for s, e in pairs for t in range(s, e)}
    assert seconds(a) == expected
    assert same(a, from_seconds(expected))


def test_normalize_joins_touching_and_drops_empty() -> None:
    """Touching spans merge and zero or negative lengths vanish."""
    s, e = iv.normalize([10, 0, 5, 30, 40], [20, 5, 10, 30, 35])
    assert s.tolist() == [0]
    assert e.tolist() == [20]


def test_normalize_refuses_mismatched_lengths() -> None:
    """Starts and ends of different lengths are refused with an InputError."""
    with pytest.raises(InputError, match="same length"):
        iv.normalize([1, 2], [3])


def test_times_outside_supported_range_are_refused() -> None:
    """Times too large for the packed sweep keys are refused rather than silently wrapped."""
    with pytest.raises(InputError, match="must lie in"):
        iv.normalize([0], [iv.TIME_MAX + 1])


@given(span_sets, span_sets)
def test_binary_operations_match_model(a: SpanArrays, b: SpanArrays) -> None:
    """union, intersect and difference equal the set operations on covered seconds."""
    for out, expected in (
        (iv.union(a, b), seconds(a) | seconds(b)),
        (iv.intersect(a, b), seconds(a) & seconds(b)),
        (iv.difference(a, b), seconds(a) - seconds(b)),
    ):
        assert_normal(out)
        assert same(out, from_seconds(expected))


@given(span_sets, span_sets, span_sets)
def test_algebra_laws(a: SpanArrays, b: SpanArrays, c: SpanArrays) -> None:
    """Commutativity, associativity, distributivity and idempotence hold exactly."""
    assert same(iv.union(a, b), iv.union(b, a))
    assert same(iv.intersect(a, b), iv.intersect(b, a))
    assert same(iv.union(iv.union(a, b), c), iv.union(a, iv.union(b, c)))
    assert same(iv.intersect(iv.intersect(a, b), c), iv.intersect(a, iv.intersect(b, c)))
    assert same(iv.intersect(a, iv.union(b, c)), iv.union(iv.intersect(a, b), iv.intersect(a, c)))
    assert same(iv.union(a, iv.intersect(b, c)), iv.intersect(iv.union(a, b), iv.union(a, c)))
    assert same(iv.union(a, a), a)
    assert same(iv.intersect(a, a), a)
    assert iv.total(iv.difference(a, a)) == 0


@given(span_sets, span_sets)
def test_de_morgan_and_double_complement_in_window(a: SpanArrays, b: SpanArrays) -> None:
    """Inside a window, complement is an involution and De Morgan's laws hold."""

    def comp(x: SpanArrays) -> SpanArrays:
        return iv.complement(x, LO, HI)

    assert same(comp(comp(a)), iv.clip(a, LO, HI))
    assert same(comp(iv.union(a, b)), iv.intersect(comp(a), comp(b)))
    assert same(comp(iv.intersect(a, b)), iv.union(comp(a), comp(b)))
    assert same(iv.difference(iv.clip(a, LO, HI), b), iv.intersect(iv.clip(a, LO, HI), comp(b)))


@given(span_sets, st.integers(0, U), st.integers(0, U))
def test_clip_and_complement_match_model(a: SpanArrays, lo: int, hi: int) -> None:
    """clip keeps and complement removes exactly the covered seconds inside [lo, hi)."""
    window = set(range(lo, hi))
    clipped = iv.clip(a, lo, hi)
    comp = iv.complement(a, lo, hi)
    assert_normal(clipped)
    assert_normal(comp)
    assert same(clipped, from_seconds(seconds(a) & window))
    assert same(comp, from_seconds(window - seconds(a)))


@given(span_sets, st.integers(-4, 6), st.integers(-4, 6))
def test_widen_matches_model(a: SpanArrays, before: int, after: int) -> None:
    """widen turns each [s, e) into [s - before, e + after) and renormalises."""
    pieces = [(s - before, e + after) for s, e in zip(a[0].tolist(), a[1].tolist(), strict=True)]
    expected = {t for s, e in pieces for t in range(s, e)}
    out = iv.widen(a, before, after)
    assert_normal(out)
    assert same(out, from_seconds(expected))


@given(st.lists(span_sets, max_size=6), st.integers(1, 7))
def test_coverage_counts_like_brute_force(sets: list[SpanArrays], k: int) -> None:
    """coverage(sets, k) is exactly the seconds covered by at least k of the sets."""
    counts: dict[int, int] = {}
    for x in sets:
        for t in seconds(x):
            counts[t] = counts.get(t, 0) + 1
    out = iv.coverage(sets, k)
    assert_normal(out)
    assert same(out, from_seconds({t for t, n in counts.items() if n >= k}))


def test_coverage_refuses_non_positive_k() -> None:
    """k of zero or less is an input error, not an empty or infinite answer."""
    with pytest.raises(InputError):
        iv.coverage([iv.normalize([0], [1])], 0)


def test_coverage_with_k_above_n_is_empty() -> None:
    """Asking for more covering sets than exist gives the empty set."""
    a = iv.normalize([0], [10])
    assert iv.coverage([a, a], 3)[0].size == 0


@given(st.lists(span_sets, max_size=5))
def test_union_all_and_intersect_all(sets: list[SpanArrays]) -> None:
    """union_all and intersect_all fold the pairwise operations; no sets is the whole window."""
    window = set(range(LO, HI))
    want_union: set[int] = set()
    want_inter = set(window)
    for x in sets:
        want_union |= seconds(x)
        want_inter &= seconds(x)
    assert same(iv.union_all(sets), from_seconds(want_union))
    assert same(iv.intersect_all(sets, LO, HI), from_seconds(want_inter))


@given(span_sets, st.lists(st.tuples(st.integers(0, U), st.integers(-2, 15)), max_size=20))
def test_covering_index_and_contains_span(a: SpanArrays, queries: list[tuple[int, int]]) -> None:
    """covering_index finds the span holding each whole query, -1 when none or when empty."""
    ps = [q[0] for q in queries]
    pe = [q[0] + q[1] for q in queries]
    got = iv.covering_index(a, ps, pe)
    assert got.dtype == np.int64
    assert got.shape == (len(queries),)
    spans = list(zip(a[0].tolist(), a[1].tolist(), strict=True))
    for i, (s, e) in enumerate(zip(ps, pe, strict=True)):
        want = next((j for j, (x, y) in enumerate(spans) if x <= s and e <= y and s < e), -1)
        assert got[i] == want
        assert iv.contains_span(a, s, e) == (want >= 0)


@given(span_sets)
def test_total_is_covered_seconds(a: SpanArrays) -> None:
    """total is the number of covered seconds."""
    assert iv.total(a) == len(seconds(a))


@given(span_sets, span_sets)
def test_results_do_not_alias_inputs(a: SpanArrays, b: SpanArrays) -> None:
    """Writing into a result never changes an input."""
    before = (a[0].copy(), a[1].copy())
    for out in (iv.union(a, b), iv.difference(a, b), iv.clip(a, LO, HI), iv.widen(a, 0, 0)):
        out[0][:] = -1
        out[1][:] = -1
    assert same(a, before)


@given(raw_spans, raw_spans)
def test_agrees_with_portion(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> None:
    """Union, intersection and difference agree with the portion library's closed-open spans."""

    def to_p(pairs: list[tuple[int, int]]) -> P.Interval:
        out = P.empty()
        for s, e in pairs:
            if e > s:
                out |= P.closedopen(s, e)
        return out

    def from_p(p: P.Interval) -> list[tuple[int, int]]:
        return [(i.lower, i.upper) for i in p if not i.empty]

    a, b = SpanSet.from_pairs(x), SpanSet.from_pairs(y)
    pa, pb = to_p(x), to_p(y)
    assert list(a | b) == from_p(pa | pb)
    assert list(a & b) == from_p(pa & pb)
    assert list(a - b) == from_p(pa - pb)


# SpanSet -------------------------------------------------------------------------------------

span_set_values = raw_spans.map(SpanSet.from_pairs)


@given(span_set_values, span_set_values)
def test_spanset_operators_and_aliases(a: SpanSet, b: SpanSet) -> None:
    """The operators equal their named aliases and the array functions."""
    assert a | b == a.union(b) == SpanSet.from_arrays(iv.union(a.arrays, b.arrays))
    assert a & b == a.intersection(b) == SpanSet.from_arrays(iv.intersect(a.arrays, b.arrays))
    assert a - b == a.difference(b) == SpanSet.from_arrays(iv.difference(a.arrays, b.arrays))
    assert ~~a == a
    assert ~(a | b) == ~a & ~b
    assert (~a).clip(LO, HI) == a.complement(LO, HI)


@given(span_set_values, st.integers(-5, U + 5))
def test_spanset_membership(a: SpanSet, t: int) -> None:
    """`t in s` is membership of the instant; a (start, end) pair asks for the whole span."""
    assert (t in a) == (t in seconds(a.arrays))
    assert ((t, t + 3) in a) == all(x in seconds(a.arrays) for x in range(t, t + 3))


@given(raw_spans)
def test_spanset_value_semantics(pairs: list[tuple[int, int]]) -> None:
    """Equal contents give equal, equally hashed sets that iterate as int pairs."""
    a = SpanSet.from_pairs(pairs)
    b = SpanSet.from_pairs(list(reversed(pairs)))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert all(type(s) is int and type(e) is int for s, e in a)
    assert len(a) == len(list(a))
    assert bool(a) == (a.total > 0)
    assert eval(repr(a), {"SpanSet": SpanSet}) == a


def test_spanset_is_immutable() -> None:
    """The arrays behind a SpanSet are read-only."""
    a = SpanSet.of((0, 10))
    with pytest.raises(ValueError, match="read-only"):
        a.arrays[0][0] = 5


def test_spanset_foreign_operands() -> None:
    """Foreign operands make the operators return NotImplemented (so Python raises TypeError)."""
    a = SpanSet.of((0, 10))
    assert a.__or__((0, 5)) is NotImplemented
    assert a.__and__(3) is NotImplemented
    assert a.__sub__("x") is NotImplemented
    assert a.__eq__([(0, 10)]) is NotImplemented
    with pytest.raises(TypeError):
        _ = a | (0, 5)  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = "x" in a
