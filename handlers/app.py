"""Build the python-telegram-bot Application from config, and run it."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlsplit
from datetime import datetime
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    PollAnswerHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import Config
from bot.dialog import Core, build_core
from handlers import qa
from handlers.broadcast import run_broadcast
from handlers.render import to_html

log = logging.getLogger(__name__)

COMMANDS = ("start", "chude", "huongdan", "tudanhgia", "quiz", "bangxephang", "hangngay", "bieumau", "lich", "toi",
            "donvi", "huy", "help")
STAFF_COMMANDS = ("nhacviec", "tiendo", "quiznhom", "quyen")   # not advertised in the menu; checked on the server
COMMAND_HANDLERS = (
    ("start", qa.start), (["help", "trogiup"], qa.help_command), ("chude", qa.topics), ("huongdan", qa.guides),
    ("bieumau", qa.forms), ("lich", qa.calendar), ("tudanhgia", qa.checklists), ("toi", qa.profile),
    ("donvi", qa.register_unit), ("huy", qa.cancel), ("quiz", qa.quiz), ("bangxephang", qa.leaderboard),
    ("hangngay", qa.daily), ("nhacviec", qa.reminders), ("tiendo", qa.progress), ("quyen", qa.admin),
    ("capquyen", qa.grant), ("thuquyen", qa.revoke), ("quiznhom", qa.team_quiz), ("lambai", qa.take_quiz),
)


def build_application(config: Config, core: Core, *, token: str | None = None,
                      request: BaseRequest | None = None, updates_request: BaseRequest | None = None) -> Application:
    """The Application with every handler wired; ``request`` lets tests run it offline."""
    builder: ApplicationBuilder = (
        Application.builder()
        .token(token or config.token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=None))
        .post_init(_post_init)
    )
    if config.api_base_url:
        builder = builder.base_url(config.api_base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request).updater(None)
    app = builder.build()
    app.bot_data["core"] = core
    core.scheduler = JobScheduler(app, core)
    for names, callback in COMMAND_HANDLERS:
        app.add_handler(CommandHandler(names, callback))
    app.add_handler(PollAnswerHandler(qa.poll_answer))
    app.add_handler(CallbackQueryHandler(qa.button))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, qa.unknown_command))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, qa.question))
    # an official who edits a sent question to fix a typo gets the answer to the corrected question
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT & ~filters.COMMAND, qa.question))
    # service messages (someone joined the group, a message was pinned…) are nobody's question
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, qa.non_text))
    app.add_error_handler(on_error)
    return app


class JobScheduler:
    """Runs the core's timed jobs on PTB's JobQueue (daily questions). Jobs live in memory, so they
    are rebuilt from SQLite at start-up; each is named after its user so rescheduling replaces it."""

    def __init__(self, app: Application, core: Core):
        self.app = app
        self.core = core
        self.tz = ZoneInfo(core.tz.key)

    def _clear(self, name: str):
        """Remove the jobs called ``name``; returns the queue (None without the job-queue extra)."""
        queue = self.app.job_queue
        for job in queue.get_jobs_by_name(name) if queue else ():
            job.schedule_removal()
        return queue

    def daily(self, user_id: int, hhmm: str | None) -> None:
        queue = self._clear(f"daily:{user_id}")
        if queue is not None and hhmm:
            h, m = (int(x) for x in hhmm.split(":"))
            queue.run_daily(_daily_job, time=dt_time(h, m, tzinfo=self.tz), name=f"daily:{user_id}",
                            chat_id=user_id, user_id=user_id)

    def reminder(self, reminder_id: int, when) -> None:
        """(Re)schedule one reminder at ``when`` (an aware datetime), or remove it with None."""
        queue = self._clear(f"reminder:{reminder_id}")
        if queue is not None and when is not None:
            queue.run_once(_reminder_job, when=when, name=f"reminder:{reminder_id}", data=reminder_id)

    def restore(self) -> int:
        """Rebuild jobs from SQLite: daily questions, reminders (overdue ones fire now, once, marked late),
        and broadcasts interrupted by a crash (resumed without resending anything)."""
        if not self.core.storage:
            return 0
        subs = self.core.storage.daily_subscriptions()
        for sub in subs:
            self.daily(sub["user_id"], sub["time"])
        now = self.core.now()
        reminders = [r for r in self.core.storage.reminders(("active",)) if r["next_run"]]
        for rem in reminders:
            when = datetime.fromisoformat(rem["next_run"])
            self.reminder(rem["id"], now if when <= now else when)
        for b in self.core.storage.unfinished_broadcasts():
            self.app.create_task(run_broadcast(self.app, self.core, b["id"]), name=f"broadcast:{b['id']}")
        return len(subs) + len(reminders)


async def _daily_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send one review question to a subscriber."""
    core: Core = context.application.bot_data["core"]
    from bot.dialog import User

    user_id = context.job.user_id
    row = core.storage.get_user(user_id) or {}
    reply = core.daily_question(User(user_id, row.get("first_name") or ""))
    if reply is not None:
        try:
            await qa.deliver(context.bot, user_id, reply, core)
        except Forbidden:
            log.info("user %s blocked the bot; daily question not sent", user_id)


async def _reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reminder is due: create its broadcast (once per occurrence) and send it."""
    core: Core = context.application.bot_data["core"]
    broadcast_id, late = core.reminders.fire(context.job.data)
    if broadcast_id is not None:
        log.info("reminder %s: broadcast %s%s", context.job.data, broadcast_id, " (late)" if late else "")
        await run_broadcast(context.application, core, broadcast_id)


async def _post_init(app: Application) -> None:
    """Register the command list with Vietnamese descriptions; restore timed jobs from SQLite."""
    core: Core = app.bot_data["core"]
    if isinstance(core.scheduler, JobScheduler):
        log.info("restored %d timed jobs", core.scheduler.restore())
    commands = [BotCommand(c, core.kb.text(f"cmd_{c}")) for c in COMMANDS]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as exc:  # not fatal: the bot works without the menu
        log.warning("set_my_commands failed: %s", exc)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every unexpected error with its traceback and tell the user something went wrong."""
    log.error("error while handling %r", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        core: Core = context.application.bot_data["core"]
        try:
            if update.callback_query:
                await update.callback_query.answer()
        except TelegramError:
            pass
        try:
            from bot.dialog import Reply
            await update.effective_chat.send_message(to_html(Reply().add(core.kb.text("error"))))
        except TelegramError:
            log.warning("could not send the error message")


async def _check_token(app: Application) -> None:
    """Ask Telegram who we are once, so a bad token fails before PTB's retry loop logs a traceback."""
    await app.bot.initialize()
    await app.bot.shutdown()


def run_polling(config: Config, webhook: tuple[str, int, str, str] | None = None) -> int:
    """Run with long polling (or a webhook: listen, port, public URL, secret) until interrupted;
    a bad token is a one-line error."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    core = build_core(config)
    app = build_application(config, core)
    try:
        asyncio.run(_check_token(app))
    except InvalidToken:
        print("Lỗi: TELEGRAM_BOT_TOKEN không hợp lệ (Telegram từ chối token). Kiểm tra lại token từ @BotFather.",
              file=sys.stderr)
        return 1
    except (NetworkError, TelegramError) as exc:
        print(f"Lỗi: không kết nối được tới Telegram Bot API ({exc}).", file=sys.stderr)
        return 1
    if webhook:
        listen, port, url, secret = webhook
        app.run_webhook(listen=listen, port=port, url_path=urlsplit(url).path.lstrip("/"), webhook_url=url,
                        secret_token=secret or None, allowed_updates=Update.ALL_TYPES)
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
