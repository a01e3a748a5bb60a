"""What a slot needs: for each group of required attendees, how many of them free.

A request's groups (:mod:`slotfinder.groups`), its quorum, or neither become one list of
:class:`Need`: the required attendees no group names need all of them (a quorum instead needs
``quorum_count()`` of all required attendees), and each group its own count. A slot passes when
every need is met by attendees each free for the whole slot; a period is where every need is
met at each instant.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder.engine.kernel import BoolArray, Int64Array, ObjArray, People, counts_by
from slotfinder.model import MeetingRequest

IntMatrix: TypeAlias = npt.NDArray[np.int64]

__all__ = ["IntMatrix", "Need", "all_mask", "counts_each", "labels", "needs", "passing"]


@attrs.frozen(eq=False)
class Need:
    """``k`` of the people in ``mask`` must be free; ``name`` is the group's (``None``: the
    implicit everyone group, or the quorum)."""

    name: str | None
    mask: BoolArray
    k: int

    @property
    def everyone(self) -> bool:
        return self.k == int(self.mask.sum())


def needs(ids: ObjArray, required: BoolArray, request: MeetingRequest) -> list[Need]:
    """The needs of ``request`` over the people ``ids`` (request order): the implicit one
    first (always present, perhaps empty), then each group's."""
    if request.quorum is not None:
        return [Need(None, required, request.quorum_count())]
    index = {str(x): i for i, x in enumerate(ids.tolist())}
    rest = required.copy()
    out = []
    for g in request.groups:
        mask = np.zeros(ids.size, dtype=bool)
        mask[[index[m] for m in g.members]] = True
        rest &= ~mask
        out.append(Need(g.name, mask, g.need))
    return [Need(None, rest, int(rest.sum())), *out]


def all_mask(ns: list[Need]) -> BoolArray:
    """Everyone who must be free: the members of every need that needs all its members."""
    mask = np.zeros(ns[0].mask.shape, dtype=bool)
    for n in ns:
        if n.everyone:
            mask |= n.mask
    return mask


def labels(ns: list[Need]) -> Int64Array:
    """Each person's need index (-1: in none); needs never share a person."""
    label = np.full(ns[0].mask.shape, -1, dtype=np.int64)
    for j, n in enumerate(ns):
        label[n.mask] = j
    return label


def counts_each(
    p: People, q: Int64Array, d: int, ns: list[Need], *, use_cov: bool, tentative_blocks: bool
) -> IntMatrix:
    """Row ``j``: how many of need ``j``'s people have ``[q, q + d)`` wholly free."""
    return counts_by(
        p, q, d, label=labels(ns), n=len(ns), use_cov=use_cov, tentative_blocks=tentative_blocks
    )


def passing(
    p: People, q: Int64Array, d: int, ns: list[Need], *, use_cov: bool, tentative_blocks: bool
) -> tuple[BoolArray, IntMatrix]:
    """Which starts ``q`` meet every need with people free for the whole slot, and each
    need's count of such people (one row per need)."""
    got = counts_each(p, q, d, ns, use_cov=use_cov, tentative_blocks=tentative_blocks)
    ok = np.all(got >= np.array([n.k for n in ns], dtype=np.int64)[:, None], axis=0)
    return ok, got
