"""Turn core Replies into Telegram HTML and inline keyboards (everything escaped)."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.dialog import Reply

MAX_MESSAGE_CHARS = 4096  # Telegram's limit for one text message
_TAGS = {"b": ("<b>", "</b>"), "i": ("<i>", "</i>"), "": ("", "")}


def to_html(reply: Reply) -> str:
    """The reply's parts as Telegram HTML, each part escaped, cut to one message."""
    out = []
    for style, text in reply.parts:
        open_, close = _TAGS.get(style, ("", ""))
        out.append(f"{open_}{html.escape(text, quote=False)}{close}")
    text = "".join(out).strip() or "…"
    if len(text) > MAX_MESSAGE_CHARS:  # answers are capped at 900 chars by kb check; this is a safety net
        text = html.escape(reply.text[: MAX_MESSAGE_CHARS - 20], quote=False) + " …"
    return text


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (None when there are none)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons]
    )
