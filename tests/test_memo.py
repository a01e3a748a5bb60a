"""slotfinder.memo: the shared part readers agree with datetime, memos stay bounded."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder import memo


@given(st.text(alphabet="0123456789-", min_size=10, max_size=10))
def test_day_number_reads_what_date_reads(text: str) -> None:
    """A valid YYYY-MM-DD is days since 1970 (twice: cold, then from the memo); else None."""
    try:
        want: int | None = (date.fromisoformat(text) - date(1970, 1, 1)).days
    except ValueError:
        want = None
    if want is not None and not (text[4] == text[7] == "-" and text.count("-") == 2):
        want = None  # date.fromisoformat also reads forms such as 20261125
    assert memo.day_number(text) == want
    assert memo.day_number(text) == want


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_clock_and_offset_seconds(h: int, mi: int, s: int) -> None:
    """hh:mm:ss is seconds after midnight; ±hh:mm is seconds east of UTC, as datetime says."""
    assert memo.clock_seconds(f"{h:02d}:{mi:02d}:{s:02d}") == h * 3600 + mi * 60 + s
    for sign in "+-":
        text = f"{sign}{h:02d}:{mi:02d}"
        aware = datetime.fromisoformat(f"2026-11-25T00:00:00{text}")
        offset = aware.utcoffset() or timedelta(0)
        assert memo.offset_seconds(text) == offset // timedelta(seconds=1)


@pytest.mark.parametrize(
    ("reader", "text"),
    [
        (memo.clock_seconds, "24:00:00"),
        (memo.clock_seconds, "09:60:00"),
        (memo.clock_seconds, "9:00:00"),
        (memo.clock_seconds, "\u0660\u0669:00:00"),
        (memo.offset_seconds, "+24:00"),
        (memo.offset_seconds, "+0800"),
        (memo.offset_seconds, "Z"),
        (memo.day_number, "2026-02-30"),
        (memo.day_number, "2026-11-2x"),
    ],
)
def test_part_readers_refuse_other_forms(reader: object, text: str) -> None:
    """Anything but the canonical part is None, so the caller falls back to its full parser."""
    assert callable(reader)
    assert reader(text) is None


def test_memos_are_emptied_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """remember() never lets a memo grow past MEMO_MAX."""
    monkeypatch.setattr(memo, "MEMO_MAX", 4)
    table: dict[int, int] = {}
    for i in range(10):
        memo.remember(table, i, i)
        assert len(table) <= 4
    assert table[9] == 9
    memo.forget()
    for i in range(10):
        assert memo.clock_seconds(f"00:00:{i:02d}") == i
    assert all(len(m) <= 4 for m in memo._PART_MEMOS)
