"""Attendee groups: "all of team A, 2 of these 5 interviewers".

A :class:`Group` names some required attendees and how many of them a slot needs. A request's
required attendees that no group names form one more, implicit group that needs everyone; a
``quorum`` is shorthand for one group of all required attendees. :func:`check` refuses groups
a request cannot mean (members that are not its required attendees, an attendee in two groups,
two groups of one name) before anything is fetched; :func:`membership` says who of each group
can come to a slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from slotfinder.errors import InputError

__all__ = [
    "Group",
    "GroupSeat",
    "check",
    "from_json",
    "membership",
    "parse_spec",
    "to_json",
]

NAME_LIMIT = 100
"""Longest group name, in characters."""


def _members(value: object) -> tuple[str, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise InputError("groups.members", value, "expected a list of attendee ids")
    out = tuple(value)
    for m in out:
        if not isinstance(m, str) or not m:
            raise InputError("groups.members", m, "expected an attendee id (a non-empty string)")
    return out


def _name(_inst: object, _attr: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > NAME_LIMIT:
        raise InputError("groups.name", value, f"expected a name of 1 to {NAME_LIMIT} characters")


@attrs.frozen
class Group:
    """Attendees of which a slot needs ``required`` (a count, or ``"all"``) free.

    ``members`` are attendee ids, each at most once, at least one.
    """

    name: str = attrs.field(validator=_name)
    members: tuple[str, ...] = attrs.field(converter=_members)
    required: int | Literal["all"] = "all"

    def __attrs_post_init__(self) -> None:
        if not self.members:
            raise InputError(f"groups[{self.name}].members", [], "at least one member is needed")
        twice = sorted({m for m in self.members if self.members.count(m) > 1})
        if twice:
            raise InputError(f"groups[{self.name}].members", twice[0], "listed twice")
        n, need = len(self.members), self.required
        if need == "all":
            return
        if isinstance(need, bool) or not isinstance(need, int) or not 1 <= need <= n:
            raise InputError(
                f"groups[{self.name}].required",
                need,
                f"expected 'all' or a count between 1 and {n} (its members)",
            )

    @property
    def need(self) -> int:
        """How many members a slot needs, as a count."""
        return len(self.members) if self.required == "all" else int(self.required)


def check(groups: Sequence[Group], required: Sequence[str], optional: Sequence[str]) -> None:
    """Refuse groups that do not fit the request's attendees (ids, required then optional)."""
    names: set[str] = set()
    owner: dict[str, str] = {}
    req, opt = set(required), set(optional)
    for g in groups:
        if g.name in names:
            raise InputError("groups.name", g.name, "two groups have this name")
        names.add(g.name)
        for m in g.members:
            field = f"groups[{g.name}].members"
            if m in opt:
                raise InputError(
                    field, m, "is an optional attendee: optional attendees never decide a slot"
                )
            if m not in req:
                raise InputError(field, m, "is not one of the request's attendees")
            if m in owner:
                raise InputError(field, m, f"is already in group {owner[m]!r}")
            owner[m] = g.name


def parse_spec(text: str, number: int, field: str = "--group") -> Group:
    """``[NAME=]N:ID,ID,...`` (``N`` a count or ``all``) as a :class:`Group`; unnamed groups
    are called ``group NUMBER``."""
    head, sep, tail = text.partition(":")
    name, eq, count = head.rpartition("=")
    ids = [x.strip() for x in tail.split(",")] if sep else []
    if not sep or not all(ids) or (eq and not name.strip()):
        raise InputError(field, text, "expected [NAME=]N:ID,ID,... (N a count or 'all')")
    required: int | Literal["all"] = "all"
    if count.strip().lower() != "all":
        try:
            required = int(count)
        except ValueError:
            raise InputError(field, text, "expected a count or 'all' before the ':'") from None
    return Group(name=name.strip() or f"group {number}", members=tuple(ids), required=required)


_KEYS = frozenset({"name", "members", "required"})


def from_json(items: object, field: str = "groups") -> tuple[Group, ...]:
    """Groups from JSON: a list of ``{"name", "members": [ids], "required": N | "all"}``
    (``required`` defaults to ``"all"``, ``name`` to ``group N`` counting from 1)."""
    if not isinstance(items, list):
        raise InputError(field, items, "expected a list of {name, members, required}")
    out = []
    for i, item in enumerate(items):
        path = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise InputError(path, item, "expected {name, members, required}")
        extra = sorted(k for k in item if k not in _KEYS and not str(k).startswith("_"))
        if extra:
            raise InputError(f"{path}.{extra[0]}", item[extra[0]], "unknown key")
        if "members" not in item:
            raise InputError(f"{path}.members", None, "missing: a group needs its members")
        need = item.get("required", "all")
        if isinstance(need, str) and need != "all":
            raise InputError(f"{path}.required", need, "expected a count or 'all'")
        out.append(
            Group(name=item.get("name", f"group {i + 1}"), members=item["members"], required=need)
        )
    return tuple(out)


def to_json(groups: Sequence[Group]) -> list[dict[str, object]]:
    """The JSON form :func:`from_json` reads."""
    return [{"name": g.name, "members": list(g.members), "required": g.required} for g in groups]


@attrs.frozen
class GroupSeat:
    """Who of one group can come to a slot: the members free for all of it (ids)."""

    name: str
    required: int
    size: int
    available: tuple[str, ...]


def membership(groups: Sequence[Group], available: Iterable[str]) -> tuple[GroupSeat, ...]:
    """For each group, its members among ``available`` (a slot's free attendees), in order."""
    free = set(available)
    return tuple(
        GroupSeat(g.name, g.need, len(g.members), tuple(m for m in g.members if m in free))
        for g in groups
    )
