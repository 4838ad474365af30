"""Every channel of the process behind one address book: a message for a person goes to the channel
they used last (Zalo or Telegram), paced by that channel's limiter. Broadcasts, reminders and daily
questions are sent through here, so they reach users on either channel from one process. Each goes
out as a whole reply (text and buttons; numbered options on Zalo, whose screen is kept so "1" means
its first option), by one path: a rate slot, then the send."""

from __future__ import annotations

import logging
from typing import Protocol

from bot import broadcast
from bot.broadcast import Pacer
from bot.dialog import Core
from bot.reply import Reply, User
from handlers.runner import CoreRunner

log = logging.getLogger(__name__)


class Channel(Protocol):
    """What a chat network adapter offers the hub."""

    name: str
    pacer: Pacer

    async def send_text(self, account: str, text: str) -> None:
        """One plain message; raises bot.broadcast's RetryLater, Blocked or SendFailed."""

    async def send_reply(self, user: User, reply: Reply) -> None:
        """A whole reply (text, options or buttons, a poll) that the bot starts on its own, one try; raises
        as :meth:`send_text`."""

    async def progress(self, account: str, text: str, handle: object) -> object:
        """Show or update a progress line for a sender; returns the handle for the next update."""


class Hub:
    """The channels of one process, and the broadcasts sent through them."""

    def __init__(self, core: Core, runner: CoreRunner):
        self.core = core
        self.runner = runner
        self.channels: dict[str, Channel] = {}

    def add(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    async def _reach(self, user_id: int) -> tuple[Channel, User] | None:
        """The channel the person uses and who they are on it."""
        contact = await self.runner(self.core.storage.contact, user_id)
        if contact is None or contact[0] not in self.channels:
            return None
        return self.channels[contact[0]], User(user_id, channel=contact[0], account=contact[1])

    async def slot(self, user_id: int) -> tuple[Channel, User] | None:
        """Wait for a rate slot on the channel the person uses; the ticket for :meth:`send`."""
        reach = await self._reach(user_id)
        if reach is not None:
            await reach[0].pacer.wait()
        return reach

    async def send(self, ticket: tuple[Channel, User], message: Reply | str) -> str:
        """A message the bot starts (a broadcast's reply, or plain text), now; returns the channel it went
        out on."""
        channel, user = ticket
        reply = message if isinstance(message, Reply) else Reply().add(message)
        try:
            await channel.send_reply(user, reply)
        except broadcast.RetryLater as exc:
            channel.pacer.pause(exc.seconds)
            raise
        except broadcast.Blocked as exc:
            exc.channel = channel.name
            raise
        return channel.name

    async def deliver(self, user_id: int, reply: Reply) -> bool:
        """A reply the bot starts for one person (the daily question, a delivery report), by the same slot
        and send as a broadcast; flood control is waited out. False when it did not go out."""
        for _ in range(broadcast.MAX_ATTEMPTS):
            ticket = await self.slot(user_id)
            if ticket is None:
                return False
            try:
                await self.send(ticket, reply)
                return True
            except broadcast.RetryLater:
                continue  # send() paused the channel's pacer; the next slot waits
            except (broadcast.Blocked, broadcast.SendFailed) as exc:
                log.info("could not send to user %s: %s", user_id, exc)
                return False
        return False

    async def notify(self, user_id: int, text: str) -> None:
        """A short message to a sender (a delivery report); never raises."""
        reach = await self._reach(user_id) if user_id else None
        if reach is None:
            return
        try:
            await reach[0].send_text(reach[1].account, text)
        except Exception:  # noqa: BLE001 - a report that cannot be sent must not stop anything
            log.info("could not send a report to user %s", user_id, exc_info=True)

    async def run_broadcast(self, broadcast_id: int) -> broadcast.Report:
        """Send one broadcast with a live progress line to its sender (where the channel can edit), then
        the delivery report."""
        core, runner = self.core, self.runner
        b = await runner(core.storage.get_broadcast, broadcast_id)
        if b is None:
            raise ValueError(f"no broadcast {broadcast_id}")
        owner = b["created_by"]
        reach = await self._reach(owner) if owner else None
        handle: object = None

        async def progress(done: int, total: int) -> None:
            nonlocal handle
            assert reach is not None, "progress is only passed on when the sender can be reached"
            text = await runner(core.reminders.broadcast_progress, broadcast_id, done, total)
            handle = await reach[0].progress(reach[1].account, text, handle)

        message = await runner(core.notices.message, broadcast_id)
        report = await broadcast.run(
            core.storage, broadcast_id, self, progress=progress if reach else None, call=runner, message=message
        )
        if owner:
            done = await runner(core.reminders.report_reply, broadcast_id)
            if not await self.deliver(owner, done):
                log.info("could not send the delivery report of broadcast %s", broadcast_id)
        return report
