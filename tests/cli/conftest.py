"""Fixtures of the command-line and service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from feishu_env import Env, feishu_env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A Feishu simulator tenant of 60 people and a configuration for it."""
    async with feishu_env() as e:
        yield e
