"""Running providers' plans over HTTP: the one place slotfinder does network I/O.

One idea per module: :mod:`~slotfinder.fetch.limiter` (rate windows, one per app in a
process), :mod:`~slotfinder.fetch.tokens` (the token cache), :mod:`~slotfinder.fetch.transport`
(the aiohttp seam) and :mod:`~slotfinder.fetch.fetcher` (plan, limit, retry, split, report).
"""

from slotfinder.fetch.fetcher import (
    Fetcher,
    FetchStats,
    Progress,
    ProgressCallback,
    RetryPolicy,
    merge_rows,
)
from slotfinder.fetch.limiter import RateLimiter
from slotfinder.fetch.tokens import TokenCache
from slotfinder.fetch.transport import AiohttpTransport, NoReply, Timeout, Transport

__all__ = [
    "AiohttpTransport",
    "FetchStats",
    "Fetcher",
    "NoReply",
    "Progress",
    "ProgressCallback",
    "RateLimiter",
    "RetryPolicy",
    "Timeout",
    "TokenCache",
    "Transport",
    "merge_rows",
]
