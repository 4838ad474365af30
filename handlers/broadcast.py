"""Run core broadcasts over Telegram: map PTB's errors to the core's, show live progress, report."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot import broadcast
from bot.dialog import Core

log = logging.getLogger(__name__)


def telegram_sender(bot):
    """send(chat_id, text) for bot.broadcast: Telegram errors become RetryLater / Blocked / SendFailed."""

    async def send(chat_id: int, text: str) -> None:
        try:
            await bot.send_message(chat_id, html.escape(text, quote=False))
        except RetryAfter as exc:
            wait = exc.retry_after
            raise broadcast.RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) from exc
        except Forbidden as exc:
            raise broadcast.Blocked(str(exc)) from exc
        except TimedOut as exc:
            raise broadcast.SendFailed(str(exc), ambiguous=True) from exc
        except (BadRequest, NetworkError) as exc:
            raise broadcast.SendFailed(str(exc)) from exc

    return send


async def run_broadcast(app: Application, core: Core, broadcast_id: int) -> broadcast.Report:
    """Send one broadcast with a live progress message to its creator, then the delivery report."""
    b = core.storage.get_broadcast(broadcast_id)
    owner = b["created_by"]
    progress_msg = None

    async def progress(done: int, total: int) -> None:
        nonlocal progress_msg
        text = html.escape(core.broadcast_progress(broadcast_id, done, total), quote=False)
        if progress_msg is None:
            progress_msg = await app.bot.send_message(owner, text)
        else:
            try:
                await progress_msg.edit_text(text)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise

    report = await broadcast.run(core.storage, broadcast_id, telegram_sender(app.bot),
                                 progress=progress if owner else None)
    if owner:
        try:
            await app.bot.send_message(owner, html.escape(core.broadcast_report(broadcast_id), quote=False))
        except (Forbidden, BadRequest):
            log.info("could not send the delivery report to %s", owner)
    return report
