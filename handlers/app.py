"""The Telegram channel: the python-telegram-bot Application built from config, and its adapter for
the hub (broadcasts, daily questions). Running it beside Zalo is :mod:`handlers.runtime`'s job."""

from __future__ import annotations

import asyncio
import html
import logging
from contextlib import contextmanager
from datetime import timedelta

import httpx
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    PollAnswerHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import broadcast
from bot.broadcast import Pacer
from bot.config import Config
from bot.dialog import Core
from bot.reply import Reply, User
from handlers import qa
from handlers.hub import Hub
from handlers.render import to_html
from handlers.runner import CoreRunner

log = logging.getLogger(__name__)
RATE_PER_SECOND = 30.0  # Telegram: about 30 messages per second overall
CONCURRENT_UPDATES = 64
CONNECTION_POOL_SIZE = 256  # PTB's own default for the bot's requests: sends at once, at most
# Idle connections kept open. PTB keeps all 256: after a burst, every request walks all of them in
# httpcore's pool (a readability check each, twice per request), which grew to 30% of the bot's CPU
# under load. Measured with benchmarks/telegram_latency.py (3 rounds each, quiet machine): 50 users'
# p95 first reply 641–723 ms keeping all, 175–191 ms keeping 4 (185–308 ms keeping 8); 20 users' ratio
# to the echo bot 1.76–2.09 → 1.45–1.62. A burst beyond 4 sends at once opens connections again.
KEEPALIVE_CONNECTIONS = 4


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats are handled at once (one waits on the network, another answers);
    the updates of one chat, in the order they came (a checklist answer before the next one)."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}  # updates of the chat running or waiting for its lock

    async def do_process_update(self, update: object, coroutine) -> None:
        key = _chat_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            # Forget the lock only when no update of the chat holds or awaits it. (``lock.locked()``
            # is False between a release and the woken waiter running: a lock dropped then let the
            # chat's next update start beside the woken one, out of order.)
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_key(update: object) -> int:
    """The chat an update belongs to; a poll vote (no chat) belongs to its voter's private chat."""
    if isinstance(update, Update):
        if update.effective_chat:
            return update.effective_chat.id
        if update.effective_user:
            return update.effective_user.id
    return 0


def application_builder(token: str, base_url: str | None = None) -> ApplicationBuilder:
    """How the bot talks to the Bot API and schedules updates, without any handler.
    ``benchmarks/telegram_latency.py`` builds its echo bot with it, so its baseline has our exact set-up."""
    limits = httpx.Limits(max_connections=CONNECTION_POOL_SIZE, max_keepalive_connections=KEEPALIVE_CONNECTIONS)
    builder = (
        Application.builder()
        .token(token)
        .request(HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE, httpx_kwargs={"limits": limits}))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=None))
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if base_url:
        builder = builder.base_url(base_url)
    return builder


def build_application(
    config: Config,
    core: Core,
    *,
    token: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    runner: CoreRunner | None = None,
    hub: Hub | None = None,
) -> Application:
    """The Application with every handler wired; ``request`` lets tests run it offline. Without a
    ``hub`` (tests, a Telegram-only process) it gets its own, with this channel only."""
    builder = application_builder(token or config.token, config.api_base_url).post_init(_post_init)
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request).updater(None)
    app = builder.build()
    runner = runner or CoreRunner()
    if hub is None:
        hub = Hub(core, runner)
    hub.add(TelegramChannel(app, core, runner))
    app.bot_data.update(core=core, runner=runner, hub=hub)
    app.add_handler(PollAnswerHandler(qa.poll_answer))
    app.add_handler(CallbackQueryHandler(qa.button))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, qa.command))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, qa.question))
    # an official who edits a sent question to fix a typo gets the answer to the corrected question
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT & ~filters.COMMAND, qa.question))
    # service messages (someone joined the group, a message was pinned…) are nobody's question
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, qa.non_text))
    app.add_error_handler(on_error)
    return app


class TelegramChannel:
    """The hub's view of Telegram: messages the bot starts (plain text, whole replies with buttons), an
    edited progress line."""

    name = "telegram"

    def __init__(self, app: Application, core: Core, runner: CoreRunner):
        self.app = app
        self.core = core
        self.runner = runner
        self.pacer = Pacer(RATE_PER_SECOND)

    async def send_text(self, account: str, text: str) -> None:
        """One plain message; errors as :meth:`send_reply`."""
        with _as_broadcast_errors(self.name):
            await self.app.bot.send_message(int(account), html.escape(text, quote=False))

    async def send_reply(self, user: User, reply: Reply) -> None:
        """A reply with its buttons (a broadcast with «Đã nhận», a daily question's poll); Telegram's errors
        become bot.broadcast's RetryLater / Blocked / SendFailed."""
        with _as_broadcast_errors(self.name):
            await qa.deliver(self.app.bot, int(user.account), reply, self.core, self.runner)
        await self.runner(self.core.shown, user, reply)

    async def progress(self, account: str, text: str, handle: object) -> object:
        text = html.escape(text, quote=False)
        if handle is None:
            return await self.app.bot.send_message(int(account), text)
        try:
            await handle.edit_text(text)  # type: ignore[attr-defined]
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        return handle


@contextmanager
def _as_broadcast_errors(channel: str):
    """Telegram's errors as the broadcast engine's: what to wait out, who blocked the bot, what may
    have arrived (a timeout) and what did not."""
    try:
        yield
    except RetryAfter as exc:
        wait = exc.retry_after
        raise broadcast.RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) from exc
    except Forbidden as exc:
        raise broadcast.Blocked(str(exc), channel) from exc
    except TimedOut as exc:
        raise broadcast.SendFailed(str(exc), ambiguous=True) from exc
    except (BadRequest, NetworkError) as exc:
        raise broadcast.SendFailed(str(exc)) from exc


async def _post_init(app: Application) -> None:
    """Register the command list with Vietnamese descriptions."""
    core: Core = app.bot_data["core"]
    commands = [BotCommand(c, core.kb.text(f"cmd_{c}")) for c in core.registry.advertised()]
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
            await update.effective_chat.send_message(to_html(Reply().add(core.kb.text("error"))))
        except TelegramError:
            log.warning("could not send the error message")
