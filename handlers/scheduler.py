"""The core's timed jobs on APScheduler, one scheduler for the whole process and every channel:
each subscriber's daily question and each reminder. Jobs live in memory, so they are rebuilt from
SQLite at start-up; each is named after its user or reminder, so rescheduling replaces it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.dialog import Core
from handlers.hub import Hub
from handlers.runner import CoreRunner

log = logging.getLogger(__name__)
FOLLOWUP_TIME = (8, 0)  # owners' task reminders go out at 08:00 local time


class Scheduler:
    """What the core calls (``daily``, ``reminder``, ``broadcast``; safe from any thread) and the
    jobs they make."""

    def __init__(self, core: Core, runner: CoreRunner, hub: Hub):
        self.core = core
        self.runner = runner
        self.hub = hub
        self.aps = AsyncIOScheduler(timezone=core.ctx.tz, job_defaults={"misfire_grace_time": None, "coalesce": True})
        self.tasks: set[asyncio.Task] = set()
        self.loop = asyncio.get_running_loop()  # made inside the loop; other threads hand work to it

    def start(self) -> None:
        h, m = FOLLOWUP_TIME
        self.aps.add_job(
            self._followups_job,
            CronTrigger(hour=h, minute=m, timezone=self.core.ctx.tz),
            id="followups",
            replace_existing=True,
        )
        self.aps.start()

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    def daily(self, user_id: int, hhmm: str | None) -> None:
        """(Re)schedule a person's daily question at HH:MM, or remove it with None."""
        name = f"daily:{user_id}"
        self._remove(name)
        if hhmm:
            h, m = (int(x) for x in hhmm.split(":"))
            self.aps.add_job(
                self._daily_job,
                CronTrigger(hour=h, minute=m, timezone=self.core.ctx.tz),
                id=name,
                args=[user_id],
                replace_existing=True,
            )

    def reminder(self, reminder_id: int, when: datetime | None) -> None:
        """(Re)schedule one reminder at ``when`` (an aware datetime), or remove it with None."""
        name = f"reminder:{reminder_id}"
        self._remove(name)
        if when is not None:
            self.aps.add_job(
                self._reminder_job, DateTrigger(run_date=when), id=name, args=[reminder_id], replace_existing=True
            )

    def broadcast(self, broadcast_id: int) -> None:
        """Send a broadcast the core just created (a team quiz assigned), from any thread."""
        self.loop.call_soon_threadsafe(lambda: self.spawn(self.hub.run_broadcast(broadcast_id)))

    def jobs(self) -> list[str]:
        return sorted(j.id for j in self.aps.get_jobs())

    def _remove(self, name: str) -> None:
        if self.aps.get_job(name):
            self.aps.remove_job(name)

    async def restore(self) -> int:
        """Rebuild jobs from SQLite: daily questions, reminders (overdue ones fire now, once, marked late),
        and broadcasts interrupted by a crash (resumed without resending anything)."""
        storage = self.core.storage
        subs = await self.runner(storage.daily_subscriptions)
        for sub in subs:
            self.daily(sub["user_id"], sub["time"])
        now = self.core.now()
        reminders = [r for r in await self.runner(storage.reminders, ("active",)) if r["next_run"]]
        for rem in reminders:
            when = datetime.fromisoformat(rem["next_run"])
            self.reminder(rem["id"], now if when <= now else when)
        for b in await self.runner(storage.unfinished_broadcasts):
            self.spawn(self.hub.run_broadcast(b["id"]))
        if now.hour >= FOLLOWUP_TIME[0] and now.hour < 20:  # down at 08:00: today's task reminders now
            self.spawn(self._followups_job())
        return len(subs) + len(reminders)

    def spawn(self, coro) -> asyncio.Task:
        """Run a broadcast in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background job failed", exc_info=task.exception())

    async def _daily_job(self, user_id: int) -> None:
        """Send one review question to a subscriber, on the channel they use."""
        user = await self.runner(self.core.user, user_id)
        reply = await self.runner(self.core.daily_question, user) if user else None
        if reply is not None and not await self.hub.deliver(user_id, reply):
            log.info("user %s cannot be reached; daily question not sent", user_id)

    async def _followups_job(self) -> None:
        """The owners' reminders of tasks due soon or today (each sent once, see Followups.due_notices)."""
        for broadcast_id in await self.runner(self.core.followups.due_notices):
            await self.hub.run_broadcast(broadcast_id)

    async def _reminder_job(self, reminder_id: int) -> None:
        """A reminder is due: create its broadcast (once per occurrence) and send it."""
        broadcast_id, late = await self.runner(self.core.reminders.fire, reminder_id)
        if broadcast_id is not None:
            log.info("reminder %s: broadcast %s%s", reminder_id, broadcast_id, " (late)" if late else "")
            await self.hub.run_broadcast(broadcast_id)
