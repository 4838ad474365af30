"""Hỏi–đáp handlers: /start, /help, /chude, free-text questions, button presses."""

from __future__ import annotations

import logging
import re

from telegram import InputFile, Poll, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.dialog import Core, Reply, User
from handlers.render import keyboard, to_html

log = logging.getLogger(__name__)


def core_of(context: ContextTypes.DEFAULT_TYPE) -> Core:
    """The core loaded once at start-up."""
    return context.application.bot_data["core"]


def user_of(update: Update) -> User:
    u = update.effective_user
    return User(u.id, u.first_name or "", u.username or "") if u else User(0)


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Deliver a Reply: a new message, an edit of the pressed message, or only new buttons."""
    if reply.broadcast_id is not None:  # e.g. a team quiz was assigned: send it to the units' members
        from handlers.broadcast import run_broadcast

        context.application.create_task(run_broadcast(context.application, core_of(context), reply.broadcast_id))
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
                    await send_poll(context.bot, update.effective_chat.id, reply, core_of(context))
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
    await deliver(context.bot, chat.id, reply, core_of(context))


async def deliver(bot, chat_id: int, reply: Reply, core: Core) -> None:
    """Send a Reply as new message(s) to a chat: text, document or photo, then a quiz poll if any."""
    if reply.attachment is not None:
        file = InputFile(reply.attachment.data, filename=reply.attachment.file_name)
        caption = to_html(reply)[:1024]
        if reply.attachment.kind == "photo":
            await bot.send_photo(chat_id, file, caption=caption, reply_markup=keyboard(reply))
        else:
            await bot.send_document(chat_id, file, caption=caption, reply_markup=keyboard(reply))
    elif reply.parts:
        await bot.send_message(chat_id, to_html(reply), reply_markup=keyboard(reply))
    if reply.poll is not None:
        await send_poll(bot, chat_id, reply, core)


async def send_poll(bot, chat_id: int, reply: Reply, core: Core) -> None:
    """A native quiz poll (non-anonymous, so the answer comes back to us as a PollAnswer)."""
    p = reply.poll
    message = await bot.send_poll(
        chat_id, p.question[:300], list(p.options), type=Poll.QUIZ, correct_option_ids=[p.correct],
        explanation=p.explanation[:200], is_anonymous=False,
    )
    if core.storage and message.poll:
        core.storage.register_poll(message.poll.id, p.session_id, p.index)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: welcome and main menu."""
    await send(update, context, core_of(context).start(user_of(update)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to use the bot."""
    await send(update, context, core_of(context).help(user_of(update)))


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/chude: the topic browser."""
    await send(update, context, core_of(context).topics(user_of(update)))


async def guides(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/huongdan: the step-by-step guides, resuming where the user stopped."""
    await send(update, context, core_of(context).guide_home(user_of(update)))


async def forms(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bieumau: the forms, one tap to get a .docx."""
    await send(update, context, core_of(context).forms_list(user_of(update)))


async def calendar(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lich: this year's ISO calendar."""
    await send(update, context, core_of(context).calendar(user_of(update)))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text: the answer to a pending prompt (unit name, note), otherwise a question.

    In a group the bot is addressed as "@botname …": the mention is not part of the question."""
    text = update.effective_message.text or ""
    if context.bot.username:
        text = re.sub(rf"@{re.escape(context.bot.username)}\b", " ", text, flags=re.IGNORECASE).strip()
    await send(update, context, core_of(context).text(user_of(update), text))


async def checklists(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tudanhgia: self-assessment checklists, resuming open runs."""
    await send(update, context, core_of(context).checklist_home(user_of(update)))


async def profile(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/toi: the user's profile and unit."""
    await send(update, context, core_of(context).profile(user_of(update)))


async def register_unit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/donvi: register or change the user's unit; asks for its name next."""
    await send(update, context, core_of(context).register_unit(user_of(update)))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/huy: cancel the pending prompt."""
    await send(update, context, core_of(context).cancel(user_of(update)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = update.effective_message.text or "/"
    await send(update, context, core_of(context).unknown_command(user_of(update), text.split()[0]))


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice…: ask for text; a photo or file with a caption is answered from the caption."""
    caption = update.effective_message.caption or ""
    await send(update, context, core_of(context).non_text(user_of(update), caption))


async def quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz: choose a topic and a length, then answer native quiz polls."""
    await send(update, context, core_of(context).quiz_home(user_of(update)))


async def leaderboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bangxephang: unit and colleague rankings."""
    await send(update, context, core_of(context).leaderboard(user_of(update)))


async def daily(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hangngay: choose the time of the daily question."""
    await send(update, context, core_of(context).daily_menu(user_of(update)))


async def reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/nhacviec (inspectors): list, create, pause, edit, cancel reminders."""
    await send(update, context, core_of(context).reminders_home(user_of(update)))


async def progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tiendo (inspectors): unit progress with filters, chart and exports."""
    await send(update, context, core_of(context).progress(user_of(update)))


async def admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quyen (admins): who are inspectors and how to grant the role."""
    await send(update, context, core_of(context).admin(user_of(update)))


async def grant(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/capquyen ID (admins): make a user an inspector."""
    await send(update, context, core_of(context).admin(user_of(update), "grant", " ".join(context.args or [])))


async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/thuquyen ID (admins): take the inspector role back."""
    await send(update, context, core_of(context).admin(user_of(update), "revoke", " ".join(context.args or [])))


async def team_quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiznhom (inspectors): assign a quiz to units; see participation and scores."""
    await send(update, context, core_of(context).team_quiz_home(user_of(update)))


async def take_quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lambai ID: take the quiz assigned to the user's unit."""
    await send(update, context, core_of(context).take_assigned_quiz(user_of(update), " ".join(context.args or [])))


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A vote on one of our quiz polls: record it, send the next question or the summary."""
    answer = update.poll_answer
    if answer.user is None:
        return
    user = User(answer.user.id, answer.user.first_name or "", answer.user.username or "")
    reply = core_of(context).poll_answer(user, answer.poll_id, list(answer.option_ids))
    if reply is not None and (reply.parts or reply.poll is not None):
        await deliver(context.bot, user.id, reply, core_of(context))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any inline button: the core validates the data; stale or forged data gets a polite reply."""
    await send(update, context, core_of(context).press(user_of(update), update.callback_query.data))
