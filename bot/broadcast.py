"""Rate-limited broadcast with a delivery record per recipient, independent of the chat network.

The front-end passes ``send(user_id, message)``, which delivers to the person on the channel they use
(returning that channel's name) or raises :class:`RetryLater`, :class:`Blocked` or
:class:`SendFailed`; the message is the broadcast's text, or what the caller made of it (the hub
sends a whole reply, with «Đã nhận» and links, so Zalo shows them as numbered options). Each
delivery is claimed in SQLite before it is sent and settled after, so a crash and restart never
sends the same broadcast twice to anyone: a delivery that was in flight during the crash is
reported as "unknown" rather than resent. ``call`` runs each database step
where the database lives (the front-ends keep SQLite on one thread).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

log = logging.getLogger(__name__)

RATE_PER_SECOND = 30.0  # Telegram: about 30 messages per second overall
WORKERS = 8  # requests in flight at once (network latency hides behind them)
MAX_ATTEMPTS = 5
PROGRESS_SECONDS = 2.0


class RetryLater(Exception):
    """Flood control: wait ``seconds`` and try again (Telegram's RetryAfter, Zalo's 429)."""

    def __init__(self, seconds: float):
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Blocked(Exception):
    """The user blocked the bot or deleted the account (Forbidden), on ``channel``."""

    def __init__(self, message: str = "", channel: str | None = None):
        super().__init__(message)
        self.channel = channel


class SendFailed(Exception):
    """Any other error; ``ambiguous`` when the message may have arrived (a timeout)."""

    def __init__(self, message: str, ambiguous: bool = False):
        super().__init__(message)
        self.ambiguous = ambiguous


class Pacer:
    """At most ``rate`` sends per second on average, shared by every broadcast of a channel: a token
    bucket holding up to ``burst_seconds`` of credit. A flood-control pause (429) stops everyone;
    the credit the pause let build up is spent after it, so the slots it cost are won back (Telegram
    and Zalo limit the average rate)."""

    def __init__(self, rate: float, burst_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.capacity = max(1.0, rate * burst_seconds)
        self.clock = clock
        self.tokens = 1.0
        self.updated = clock()
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:  # waiters are served in turn
            while True:
                now = self.clock()
                if now < self.paused_until:
                    await asyncio.sleep(self.paused_until - now)
                    continue
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self.tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)


@dataclass
class Report:
    total: int
    sent: int
    failed: int
    blocked: int
    unknown: int


async def _direct(fn, *args):
    return fn(*args)


Ticket = TypeVar("Ticket")


@runtime_checkable
class Sender(Protocol[Ticket]):
    """How a broadcast reaches people: wait for a rate slot on the person's channel, then send."""

    async def slot(self, user_id: int) -> Ticket | None:
        """Wait until the person's channel may send; a ticket for :meth:`send`, None if unreachable."""

    async def send(self, ticket: Ticket, message: Any) -> str | None:
        """Send now (raises RetryLater, Blocked or SendFailed); the channel it went out on."""


class _Paced:
    """A plain ``send(user_id, message)`` function behind one pacer of its own (tests, one channel)."""

    def __init__(self, send: Callable[[int, object], Awaitable[str | None]], rate: float):
        self._send = send
        self.pacer = Pacer(rate)

    async def slot(self, user_id: int) -> int:
        await self.pacer.wait()
        return user_id

    async def send(self, ticket: int, message: object) -> str | None:
        try:
            return await self._send(ticket, message)
        except RetryLater as exc:
            self.pacer.pause(exc.seconds)
            raise


async def run(
    storage,
    broadcast_id: int,
    send: Sender[Any] | Callable[[int, object], Awaitable[str | None]],
    *,
    progress: Callable[[int, int], Awaitable[None]] | None = None,
    rate: float = RATE_PER_SECOND,
    workers: int = WORKERS,
    call: Callable[..., Awaitable] = _direct,
    message: object = None,
) -> Report:
    """Send a broadcast to every pending recipient; returns the final counts (kept in the database).

    ``send`` is a :class:`Sender` (the process's hub: one pacer per channel) or a plain function
    paced here at ``rate``; it gets ``message``, by default the broadcast's text. A delivery is
    claimed only once its rate slot has come, just before the request goes out: after a crash,
    "unknown" (never resent) means a request had really started."""
    sender: Sender[Any] = send if isinstance(send, Sender) else _Paced(send, rate)
    b = await call(storage.get_broadcast, broadcast_id)
    if b is None:
        raise ValueError(f"no broadcast {broadcast_id}")
    message = b["text"] if message is None else message
    await call(storage.orphan_in_flight, broadcast_id)  # from a previous crash: may have arrived, never resend
    queue: asyncio.Queue[int] = asyncio.Queue()
    for uid in await call(storage.pending_deliveries, broadcast_id, 10_000_000):
        queue.put_nowait(uid)
    total = b["total"]
    done = total - queue.qsize()
    last_progress = 0.0

    async def report_progress(force: bool = False) -> None:
        nonlocal last_progress
        now = time.monotonic()
        if progress and (force or now - last_progress >= PROGRESS_SECONDS):
            last_progress = now
            try:
                await progress(done, total)
            except Exception:  # progress is cosmetic; never stop a broadcast for it
                log.warning("progress update failed", exc_info=True)

    async def deliver(uid: int) -> None:
        for _attempt in range(1, MAX_ATTEMPTS + 1):
            ticket = await sender.slot(uid)
            if not await call(storage.claim_delivery, broadcast_id, uid):
                return  # settled meanwhile (another worker, a retry)
            if ticket is None:
                await call(storage.finish_delivery, broadcast_id, uid, "failed", "no channel reaches this person")
                return
            try:
                channel = await sender.send(ticket, message)
                await call(storage.finish_delivery, broadcast_id, uid, "sent", "", channel)
                return
            except RetryLater:
                await call(storage.release_delivery, broadcast_id, uid)  # not accepted: safe to send again
            except Blocked as exc:
                await call(storage.finish_delivery, broadcast_id, uid, "blocked", str(exc), exc.channel)
                await call(storage.mark_blocked, uid, exc.channel)
                return
            except SendFailed as exc:
                await call(
                    storage.finish_delivery, broadcast_id, uid, "unknown" if exc.ambiguous else "failed", str(exc)
                )
                return
        if await call(storage.claim_delivery, broadcast_id, uid):
            await call(storage.finish_delivery, broadcast_id, uid, "failed", "flood control")

    async def worker() -> None:
        nonlocal done
        while True:
            try:
                uid = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await deliver(uid)
            done += 1
            await report_progress()

    await report_progress(force=True)
    await asyncio.gather(*(worker() for _ in range(max(1, workers))))
    final = await call(storage.close_broadcast, broadcast_id)
    await report_progress(force=True)
    return Report(final["total"], final["sent"], final["failed"], final["blocked"], final["unknown"])
