"""Telegram handlers: read the update, call the core on its thread, render the reply.

Every command goes through one handler (the core knows them all, and unknown ones); buttons,
free text, poll votes and stickers have one handler each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from telegram import InputFile, Poll, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.dialog import Core
from bot.reply import Reply, Upload, User
from handlers.render import keyboard, to_html

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def core_of(context: ContextTypes.DEFAULT_TYPE) -> Core:
    """The core loaded once at start-up."""
    return context.application.bot_data["core"]


async def ask(context: ContextTypes.DEFAULT_TYPE, update: Update, fn: Callable[[Core, User], Reply | None]):
    """Identify the Telegram user and run ``fn(core, user)`` through the core runner."""
    core = core_of(context)
    u = update.effective_user

    def work():
        with core.atomic():
            user = core.identify(CHANNEL, str(u.id), u.first_name or "", u.username or "") if u else User(0)
            reply = fn(core, user)
            if reply is not None:
                core.shown(user, reply)  # a number typed next picks from its buttons
            return reply

    return await context.application.bot_data["runner"](work)


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Deliver a Reply: a new message, an edit of the pressed message, or only new buttons."""
    query = update.callback_query
    if query is not None:
        # Answer first: the phone shows a spinner until we do, and late answers fail.
        await query.answer(reply.toast[:200] if reply.toast else None, show_alert=reply.alert)
        if reply.mode in ("edit", "markup") and query.message is not None:
            try:
                if reply.mode == "edit" and reply.parts:
                    await query.edit_message_text(to_html(reply), reply_markup=keyboard(reply))
                elif reply.mode == "markup":
                    await query.edit_message_reply_markup(reply_markup=keyboard(reply))
                if reply.poll is not None and update.effective_chat:
                    await send_poll(context, update.effective_chat.id, reply)
                return
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return
                log.info("edit failed (%s); sending a new message instead", exc)
            if reply.mode == "markup":
                return
        if reply.toast and not reply.parts and reply.poll is None:
            return
    chat = update.effective_chat
    if chat is None:
        return
    await deliver(context.bot, chat.id, reply, core_of(context), context.application.bot_data["runner"])


async def deliver(bot, chat_id: int, reply: Reply, core: Core, runner) -> None:
    """Send a Reply as new message(s) to a chat: text, document or photo, then a quiz poll if any."""
    if reply.attachment is not None:
        file = reply.attachment.ref or InputFile(reply.attachment.data, filename=reply.attachment.file_name)
        caption = to_html(reply)[:1024]
        if reply.attachment.kind == "photo":
            await bot.send_photo(chat_id, file, caption=caption, reply_markup=keyboard(reply))
        else:
            await bot.send_document(chat_id, file, caption=caption, reply_markup=keyboard(reply))
    elif reply.parts:
        await bot.send_message(chat_id, to_html(reply), reply_markup=keyboard(reply))
    if reply.poll is not None:
        p = reply.poll
        message = await bot.send_poll(
            chat_id,
            p.question[:300],
            list(p.options),
            type=Poll.QUIZ,
            correct_option_ids=[p.correct],
            explanation=p.explanation[:200],
            is_anonymous=False,
        )
        if core.ctx.storage and message.poll:  # the vote comes back as a PollAnswer with only the poll id
            await runner(core.storage.register_poll, message.poll.id, p.session_id, p.index)


async def send_poll(context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
    await deliver(
        context.bot, chat_id, Reply(poll=reply.poll), core_of(context), context.application.bot_data["runner"]
    )


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any /command (with its argument); in a group, one addressed to another bot is not ours."""
    if update.effective_message is None:  # the filters only pass updates that have one
        return
    text = update.effective_message.text or "/"
    head, _, arg = text.partition(" ")
    name, _, bot_name = head[1:].partition("@")
    if bot_name and context.bot.username and bot_name.lower() != context.bot.username.lower():
        return
    await send(update, context, await ask(context, update, lambda core, user: core.command(user, name, arg.strip())))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text: the answer to a pending prompt (unit name, note), otherwise a question.

    In a group the bot is addressed as "@botname …": the mention is not part of the question."""
    if update.effective_message is None:
        return
    text = update.effective_message.text or ""
    if context.bot.username:
        text = re.sub(rf"@{re.escape(context.bot.username)}\b", " ", text, flags=re.IGNORECASE).strip()
    await send(update, context, await ask(context, update, lambda core, user: core.text(user, text, CHANNEL)))


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice…: a photo or file the bot waits for (a task's evidence) is kept by its
    file_id; otherwise ask for text, or answer the caption."""
    message = update.effective_message
    if message is None:
        return
    caption = message.caption or ""
    upload = None
    if message.photo:
        upload = Upload(
            "photo", message.photo[-1].file_id, f"anh-{message.photo[-1].file_unique_id}.jpg", caption=caption
        )
    elif message.document:
        upload = Upload("document", message.document.file_id, message.document.file_name or "", caption=caption)
    await send(update, context, await ask(context, update, lambda core, user: core.non_text(user, caption, upload)))


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A vote on one of our quiz polls: record it, send the next question or the summary."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    poll_id, options, chat_id = answer.poll_id, list(answer.option_ids), answer.user.id
    reply = await ask(context, update, lambda core, user: core.poll_answer(user, poll_id, options))
    if reply is not None and (reply.parts or reply.poll is not None):
        await deliver(context.bot, chat_id, reply, core_of(context), context.application.bot_data["runner"])


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any inline button: the core validates the data; stale or forged data gets a polite reply."""
    if update.callback_query is None:
        return
    data = update.callback_query.data
    await send(update, context, await ask(context, update, lambda core, user: core.press(user, data)))
