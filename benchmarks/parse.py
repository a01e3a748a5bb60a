"""Reply parsing: the providers' reference item readers against the memoised ones.

Run ``python benchmarks/parse.py [--quick] [--repeats R]``. Prints one table; never asserts on
time.

Replies are built in this process from the simulators' seeded tenants, with the simulators'
own encodings (window: 90 days from 2026-11-23T00:00:00Z, 14 for the Feishu batch):

* ``dingtalk users``: one querySchedule reply for 20 people of
  ``DingTalkSimulator().tenant(11, users=500, rooms=50)``, as ``_query_schedule`` joins
  ``Event.user_json()`` (the planner's attendee zones are in the call, for all-day items);
* ``dingtalk rooms``: one meetingRooms/schedules/query reply for 5 rooms of that tenant;
* ``feishu batch``: one freebusy/batch reply for 10 people over 14 days of
  ``FeishuSimulator().tenant(11, users=500, rooms=50)``, from the simulator's ``_answer_bytes``
  for the body the provider builds;
* ``feishu list``: one freebusy/list reply (with ``rsvp_status``) for 1 room over 90 days;
* fetches (not with ``--quick``): every reply of a fetch, parsed in plan order, so later
  replies meet times earlier ones put in the memos: ``dt 100 users`` (5 querySchedule replies)
  and ``fs 500 users`` (50 freebusy/batch replies over 14 days).

Each case goes through the provider's whole ``parse`` (``json.loads`` included), timed as the
best of ``--repeats`` runs (a quarter as many for fetches) with :func:`time.perf_counter`. The
tenants built for the replies are moved out of the garbage collector's reach with
:func:`gc.freeze`: a client process never holds them, and their objects would otherwise slow
every collection the parsing triggers.

* ``ref``: the module's ``_rows`` swapped for ``_rows_reference`` (the old reader, one
  ``parse_time`` per time), over ``json.loads``;
* ``cold``: the provider's ``parse`` as it is (its typed decoder first, where it has one) with
  every memo emptied before each run (a fresh process);
* ``warm``: the same after one parse of the same replies (every time already read);
* ``dict``: warm, with the typed decoder switched off: ``json.loads`` and the memoised dict
  reader; ``dict/warm`` is what the typed decoder saves.

``items`` counts the replies' items; ``us/it`` is the parse time per item; ``json`` is
``json.loads`` alone, the floor either reader pays. A note is printed if the readers' results
ever differ. Timings of large replies vary from run to run on small virtual machines (memory
effects); compare rows within one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slotfinder_dingtalk import DingTalkProvider, DingTalkSimulator
from slotfinder_dingtalk import provider as dingtalk
from slotfinder_dingtalk.provider import ROOM_ENDPOINT, USER_ENDPOINT
from slotfinder_feishu import FeishuProvider, FeishuSimulator, _times
from slotfinder_feishu import provider as feishu
from slotfinder_feishu.provider import BATCH, LIST_ROOM
from slotfinder_feishu.simulator import _answer_bytes

from slotfinder.model import DAY, Span
from slotfinder.providers import Call, CallResult, HttpResponse, Kind, Secret

START = 1_795_564_800  # 2026-11-23T00:00:00Z
SEED = 11
FEISHU_CONFIG: dict[str, Any] = {"app_id": "cli_bench", "app_secret": Secret("bench")}


@dataclass(frozen=True)
class Case:
    """Replies of one kind, parsed in order by the provider: one, or a whole fetch's worth."""

    name: str
    provider: Any
    config: dict[str, Any]
    replies: tuple[tuple[Call, HttpResponse], ...]
    items: int
    module: ModuleType
    forget: Callable[[], None]

    @property
    def bytes(self) -> int:
        return sum(len(r.body) for _, r in self.replies)

    def parse(self) -> list[CallResult]:
        return [self.provider.parse(call, r, self.config) for call, r in self.replies]

    def decode(self) -> None:
        for _, r in self.replies:
            json.loads(r.body)


def _response(body: bytes) -> HttpResponse:
    return HttpResponse(status=200, headers={}, body=body)


def _chunks(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def dingtalk_cases(fetch: bool) -> list[Case]:
    tenant = DingTalkSimulator().tenant(SEED, users=500, rooms=50)
    window = Span(START, START + 90 * DAY)
    people = [p.union_id for p in tenant]
    rooms = [r.room_id for r in tenant.rooms]

    def zone_of(key: str) -> str:
        person, room = tenant.person(key), tenant.room(key)
        return person.zone if person is not None else room.zone if room is not None else "UTC"

    def reply(endpoint: str, kind: Kind, keys: list[str]) -> tuple[Call, HttpResponse, int]:
        id_field = "roomId" if kind == "room" else "userId"
        infos, items = [], 0
        for key in keys:
            events = tenant.events(key, window.start, window.end)
            items += len(events)
            joined = ",".join(e.room_json() if kind == "room" else e.user_json() for e in events)
            infos.append(f'{{"{id_field}":{json.dumps(key)},"scheduleItems":[{joined}]}}')
        body = ('{"scheduleInformation":[' + ",".join(infos) + "]}").encode()
        zones = tuple((key, zone_of(key)) for key in keys)
        call = Call(endpoint=endpoint, ids=tuple(keys), span=window, kind=kind, zones=zones)
        return call, _response(body), items

    groups: list[tuple[str, str, Kind, list[list[str]]]] = [
        ("dingtalk users", USER_ENDPOINT, "user", [people[:20]]),
        ("dingtalk rooms", ROOM_ENDPOINT, "room", [rooms[:5]]),
    ]
    if fetch:
        groups.append(("dt 100 users", USER_ENDPOINT, "user", _chunks(people[:100], 20)))
    cases = []
    for name, endpoint, kind, batches in groups:
        built = [reply(endpoint, kind, keys) for keys in batches]
        cases.append(
            Case(
                name,
                DingTalkProvider(),
                {},
                tuple((c, r) for c, r, _ in built),
                sum(n for _, _, n in built),
                dingtalk,
                dingtalk._forget,
            )
        )
    return cases


def feishu_cases(fetch: bool) -> list[Case]:
    tenant = FeishuSimulator().tenant(SEED, users=500, rooms=50)
    provider = FeishuProvider()
    by_id = {p.open_id: p for p in tenant.people}
    room = tenant.rooms[0]

    def batch(ids: list[str]) -> Call:
        return Call(
            endpoint=BATCH,
            ids=tuple(ids),
            span=Span(START, START + 14 * DAY),
            zones=tuple((i, by_id[i].zone) for i in ids),
        )

    room_call = Call(
        endpoint=LIST_ROOM,
        ids=(room.room_id,),
        span=Span(START, START + 90 * DAY),
        kind="room",
        zones=((room.room_id, room.zone),),
    )
    groups = [
        ("feishu batch", [batch(list(by_id)[:10])]),
        ("feishu list", [room_call]),
    ]
    if fetch:
        groups.append(("fs 500 users", [batch(ids) for ids in _chunks(list(by_id), 10)]))
    cases = []
    for name, calls in groups:
        replies, items = [], 0
        for call in calls:
            request = provider.build(call, "token", FEISHU_CONFIG)
            api: Literal["batch", "list"] = "batch" if call.endpoint == BATCH else "list"
            body = _answer_bytes(tenant, "open_id", json.loads(request.body or b""), api)
            data = json.loads(body)["data"]
            if api == "batch":
                items += sum(len(e["freebusy_items"]) for e in data["freebusy_lists"])
            else:
                items += len(data["freebusy_list"])
            replies.append((call, _response(body)))
        cases.append(
            Case(name, provider, FEISHU_CONFIG, tuple(replies), items, feishu, _times.forget)
        )
    return cases


@contextmanager
def dict_reader(module: ModuleType) -> Iterator[None]:
    """The module's ``parse`` skips its typed decoder (if it has one) inside the block: every
    reply goes through ``json.loads`` and the dict reader."""
    typed = getattr(module, "schema", None)
    if typed is None:
        yield
        return
    decode = typed.decode
    typed.decode = lambda body: None
    try:
        yield
    finally:
        typed.decode = decode


@contextmanager
def reference_reader(module: ModuleType) -> Iterator[None]:
    """The module's ``parse`` reads dicts with ``_rows_reference`` inside the block."""
    fast = getattr(module, "_rows")  # noqa: B009 - private names, looked up on purpose
    setattr(module, "_rows", getattr(module, "_rows_reference"))  # noqa: B009, B010
    try:
        with dict_reader(module):
            yield
    finally:
        setattr(module, "_rows", fast)  # noqa: B010


def best_of(fn: Callable[[], Any], repeats: int, before: Callable[[], None] | None = None) -> float:
    best = float("inf")
    for _ in range(repeats):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _rows_of(results: list[CallResult]) -> list[tuple[object, ...]]:
    return [
        ({k: [tuple(map(int, r)) for r in v] for k, v in res.busy.items()}, dict(res.errors))
        for res in results
    ]


def measure(case: Case, repeats: int) -> tuple[str, list[str]]:
    notes: list[str] = []
    if len(case.replies) > 1:
        repeats = max(3, repeats // 4)
    t_json = best_of(case.decode, repeats)
    with reference_reader(case.module):
        t_ref = best_of(case.parse, repeats)
        expected = _rows_of(case.parse())
    t_cold = best_of(case.parse, repeats, before=case.forget)
    case.forget()
    if _rows_of(case.parse()) != expected:
        notes.append(f"  note: {case.name}: cold read differs from the reference")
    t_warm = best_of(case.parse, repeats)
    if _rows_of(case.parse()) != expected:
        notes.append(f"  note: {case.name}: warm read differs from the reference")
    with dict_reader(case.module):
        t_dict = best_of(case.parse, repeats)
        if _rows_of(case.parse()) != expected:
            notes.append(f"  note: {case.name}: dict read differs from the reference")

    def ms(t: float) -> str:
        return f"{t * 1e3:.2f}"

    def per(t: float) -> str:
        return f"{t * 1e6 / max(case.items, 1):.2f}"

    row = (
        f"{case.name:<15} {case.bytes:>9} {case.items:>6} {ms(t_json):>7}"
        f" {ms(t_ref):>8} {per(t_ref):>6} {ms(t_cold):>8} {per(t_cold):>6}"
        f" {ms(t_warm):>8} {per(t_warm):>6} {ms(t_dict):>8}"
        f" {t_ref / t_cold:>8.1f}x {t_ref / t_warm:>8.1f}x {t_dict / t_warm:>8.1f}x"
    )
    return row, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="single replies only, no fetches")
    args = parser.parse_args(argv)

    cases = dingtalk_cases(not args.quick) + feishu_cases(not args.quick)
    # The simulators' tenants live in this process only to build the replies (a client never
    # holds them): keep their objects out of the collector's way, as if they were elsewhere.
    gc.collect()
    gc.freeze()
    head = (
        f"{'reply':<15} {'bytes':>9} {'items':>6} {'json ms':>7}"
        f" {'ref ms':>8} {'us/it':>6} {'cold ms':>8} {'us/it':>6}"
        f" {'warm ms':>8} {'us/it':>6} {'dict ms':>8} {'ref/cold':>9} {'ref/warm':>9}"
        f" {'dict/warm':>9}"
    )
    print(head)
    print("-" * len(head))
    all_notes: list[str] = []
    for case in cases:
        row, notes = measure(case, args.repeats)
        print(row, flush=True)
        all_notes.extend(notes)
    print()
    print(f"ms: whole provider parse (json.loads included), best of {args.repeats} runs")
    print("(fetch rows: best of a quarter as many, every reply of the fetch in plan order);")
    print("cold: every memo emptied before each run; warm: after one parse of the same replies;")
    print("dict: warm, with any typed decoder off (json.loads and the memoised dict reader);")
    print("dict/warm: what the typed decoder saves (1.0x for providers without one).")
    for note in all_notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
