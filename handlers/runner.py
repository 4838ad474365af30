"""Where the core runs: on the event loop's thread, one call at a time, for every channel.

Every call into the core (and so every SQLite access) goes through ``await runner(fn, *args)``, so
the database is only ever used from one thread and each call finishes before the next starts. The
channels' network I/O (Telegram's updates, Zalo's polling thread and sends) goes on around it.

A separate core thread was tried and measured: with 20 Zalo users at once it cost 4.5–6.9 ms of CPU
per question against 3.7–4.5 ms here (GIL hand-offs on every call) and gave no concurrency, since
the core's work is serial either way. The price of running here is that slow work (a chart, about
0.1 s) holds the loop for that long; :meth:`warm_up` imports the heavy libraries at start-up so the
first chart does not also pay their 0.7 s import.

A forked search worker was tried and measured too (2026-12-02): the index in a second process, the
question sent to it over a socket pair before the core call, the result handed back. It moved the
search (about 1 ms of 4.5 ms per question) off the loop but added 0.3 ms of pickling and socket work
to the loop, and on 2 cores it competed with the emulator: 20 users' ratio to the echo bot 1.55–1.79
with it against 1.45–1.62 without, 50 users' p95 167–215 ms against 175–191 ms. Not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class CoreRunner:
    """``await runner(fn, *args)`` runs ``fn(*args)`` for the core and returns its result."""

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(*args, **kwargs)

    @staticmethod
    def warm_up() -> None:
        """Import what charts, .docx and .xlsx files need, once, before the first user asks."""
        import docx  # noqa: F401
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
        import openpyxl  # noqa: F401

    def close(self) -> None:
        """Nothing to release (kept so a runner with its own thread can replace this one)."""
