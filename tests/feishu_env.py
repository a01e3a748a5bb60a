"""A Feishu simulator tenant on loopback and a configuration pointing at it, for the tests
of the service and of ``suggest`` from the command line's flags (fixture ``env`` in
``tests/cli/conftest.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import attrs

from slotfinder.config import Config
from slotfinder.testing import get_simulators, simkit


@attrs.frozen
class Env:
    """The configuration, the tenant's people as ``feishu:`` ids, and the simulator app."""

    config: Config
    people: list[str]
    sim_app: Any


@contextlib.asynccontextmanager
async def feishu_env(seed: int = 9, users: int = 60) -> AsyncIterator[Env]:
    """The simulator serving on a free port until the block ends."""
    from slotfinder_feishu.simulator import TENANT

    sim = get_simulators()["feishu"]
    app = sim.app(seed=seed, users=users)
    async with simkit.running(app) as url:
        settings = dict(sim.demo(url, seed=seed).config)
        config = Config.from_mapping(
            {"tz": "Asia/Shanghai", "providers": {"feishu": settings}}, env={}
        )
        yield Env(config, [f"feishu:{p.open_id}" for p in app[TENANT].people], app)
