"""One thread for the core and its SQLite connection, shared by every channel of the process.

The asyncio loop keeps receiving updates (Telegram's and Zalo's) and sending replies while the core
answers on this thread, one call at a time: SQLite is only ever used from here.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class CoreRunner:
    """``await runner(fn, *args)`` runs ``fn(*args)`` on the core thread and returns its result."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="isobot-core")

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
