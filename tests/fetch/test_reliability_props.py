"""Reliability as a property: hypothesis draws the fault schedule, one entry per data call.

For any schedule, through the real Fetcher against each simulator: every id read equals the
fault-free answer, every other id is unknown with a reason, bad ids are never read, and the
engine never offers an unknown attendee as free. When the schedule holds fewer faults than the
fetcher has spare attempts and no non-JSON body (not retried by design), every good id is read.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reliability import (
    assert_engine_never_guesses,
    assert_sound,
    dingtalk_setup,
    feishu_setup,
    fetch,
    full,
    policy,
    reference,
    setup_rooms,
)

from slotfinder.testing.simkit import Fault, Faults

pytestmark = pytest.mark.timeout(120)

ATTEMPTS = 7
SPARE = 3
"""Attempts kept back for spurious timeouts (a normal reply over 0.4 s on a busy machine)."""

SETUPS = {
    "feishu": lambda: feishu_setup(users=13, rooms=1),
    "dingtalk": lambda: dingtalk_setup(users=22, rooms=6),
}


def _at_most_one_slow(schedule: list[Fault | None]) -> list[Fault | None]:
    """Keep one SLOW entry (each costs a per-call timeout); later ones become 500s."""
    out: list[Fault | None] = []
    seen = False
    for fault in schedule:
        if fault is Fault.SLOW:
            out.append(Fault.SERVER_ERROR if seen else fault)
            seen = True
        else:
            out.append(fault)
    return out


schedules = st.lists(
    st.one_of(st.none(), st.none(), st.sampled_from(list(Fault))), max_size=16
).map(_at_most_one_slow)


async def _check(name: str, schedule: list[Fault | None]) -> None:
    setup = SETUPS[name]()
    everyone = await reference(SETUPS_FULL[name]())
    ref = {full(setup, t.id): everyone[full(setup, t.id)] for t in setup.targets}
    faults = Faults(schedule=schedule, slow_seconds=1.0)
    out = await fetch(setup, policy(attempts=ATTEMPTS, timeout=0.4), faults=faults)
    unknown = assert_sound(setup, out.by_id, ref)
    faulty = [f for f in schedule if f is not None]
    if Fault.MALFORMED not in faulty and len(faulty) <= ATTEMPTS - 1 - SPARE:
        assert unknown == {full(setup, b) for b in setup.bad}
    assert_engine_never_guesses(list(out.by_id.values()), unknown, setup_rooms(setup))


SETUPS_FULL = {"feishu": feishu_setup, "dingtalk": dingtalk_setup}
"""The references are fetched once for the larger default setups, a superset of the ids."""


@settings(max_examples=20)
@given(schedule=schedules)
def test_feishu_any_fault_schedule_keeps_the_promise(schedule: list[Fault | None]) -> None:
    """Feishu: for any drawn fault schedule, read ids are exact and the rest unknown."""
    asyncio.run(asyncio.wait_for(_check("feishu", schedule), 60))


@settings(max_examples=20)
@given(schedule=schedules)
def test_dingtalk_any_fault_schedule_keeps_the_promise(schedule: list[Fault | None]) -> None:
    """DingTalk: for any drawn fault schedule, read ids are exact and the rest unknown."""
    asyncio.run(asyncio.wait_for(_check("dingtalk", schedule), 60))
