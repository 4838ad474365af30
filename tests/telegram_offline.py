"""Run the real python-telegram-bot Application offline.

``OfflineBotAPI`` is a ``telegram.request.BaseRequest``: PTB sends its HTTP requests here instead of
to Telegram. It answers like the Bot API (real Message objects, Telegram's 400 errors for the
mistakes bots make) and records every call, so tests assert on what the bot really sent.
"""

from __future__ import annotations

import itertools
import json
import time
from html.parser import HTMLParser

from telegram import Update
from telegram.request import BaseRequest

BOT = {"id": 999000111, "is_bot": True, "first_name": "Trợ lý ISO", "username": "troly_iso_test_bot"}
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
}


class _HTMLCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.visible: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.error = f'Unmatched end tag "{tag}"'

    def handle_data(self, data):
        self.visible.append(data)


def visible_text(html_text: str) -> tuple[str, str | None]:
    """Text as the user sees it, and a parse error as Telegram would report it."""
    p = _HTMLCheck()
    p.feed(html_text)
    p.close()
    if p.stack and not p.error:
        p.error = f'Can\'t find end tag corresponding to start tag "{p.stack[-1]}"'
    return "".join(p.visible), p.error


class OfflineBotAPI(BaseRequest):
    """A Bot API that lives in memory; ``calls`` lists (method, params) in order."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.messages: dict[tuple[int, int], dict] = {}
        self.polls: list[dict] = []
        self._ids = itertools.count(1000)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self):
        return 5.0

    async def do_request(
        self,
        url,
        method,
        request_data=None,
        read_timeout=None,
        write_timeout=None,
        connect_timeout=None,
        pool_timeout=None,
    ):
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        for k, v in list(params.items()):
            if isinstance(v, str) and k in ("reply_markup",):
                params[k] = json.loads(v)
        self.calls.append((name, params))
        try:
            result = getattr(self, f"_{name}", self._ok)(params)
        except _ApiError as exc:
            return 400, json.dumps({"ok": False, "error_code": 400, "description": exc.args[0]}).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -------------------------------------------------------------- methods

    def _ok(self, params):
        return True

    def _getMe(self, params):
        return dict(BOT, can_join_groups=True, can_read_all_group_messages=False, supports_inline_queries=False)

    def _check_text(self, params):
        text = params.get("text", "")
        shown, error = visible_text(text) if params.get("parse_mode") == "HTML" else (text, None)
        if error:
            raise _ApiError(f"Bad Request: can't parse entities: {error}")
        if not shown.strip():
            raise _ApiError("Bad Request: message text is empty")
        if len(shown.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError("Bad Request: message is too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for b in row:
                if len(b.get("callback_data", "").encode()) > 64:
                    raise _ApiError("Bad Request: BUTTON_DATA_INVALID")
        return shown

    def _message(self, chat_id, message_id, text, markup):
        msg = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT,
            "text": text,
        }
        if markup:
            msg["reply_markup"] = markup
        self.messages[(chat_id, message_id)] = msg
        return msg

    def _sendMessage(self, params):
        shown = self._check_text(params)
        return self._message(int(params["chat_id"]), next(self._ids), shown, params.get("reply_markup"))

    def _editMessageText(self, params):
        shown = self._check_text(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        old = self.messages.get(key)
        if old is None:
            raise _ApiError("Bad Request: message to edit not found")
        if old["text"] == shown and old.get("reply_markup") == params.get("reply_markup"):
            raise _ApiError("Bad Request: message is not modified")
        return self._message(key[0], key[1], shown, params.get("reply_markup"))

    def _editMessageReplyMarkup(self, params):
        key = (int(params["chat_id"]), int(params["message_id"]))
        old = self.messages.get(key)
        if old is None:
            raise _ApiError("Bad Request: message to edit not found")
        return self._message(key[0], key[1], old["text"], params.get("reply_markup"))

    def _sendPoll(self, params):
        options = params.get("options") or []
        texts = [o if isinstance(o, str) else o.get("text", "") for o in options]
        if not 2 <= len(texts) <= 12:
            raise _ApiError("Bad Request: poll must have 2-12 options")
        correct = params.get("correct_option_ids") or [params.get("correct_option_id", -1)]
        if params.get("type") == "quiz" and not all(0 <= int(c) < len(texts) for c in correct):
            raise _ApiError("Bad Request: wrong correct option id")
        if len(params.get("question", "")) > 300 or len(params.get("explanation") or "") > 200:
            raise _ApiError("Bad Request: poll question or explanation too long")
        poll_id = f"poll-{next(self._ids)}"
        poll = {
            "id": poll_id,
            "question": params["question"],
            "options": [{"text": t, "voter_count": 0, "persistent_id": str(i)} for i, t in enumerate(texts)],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": params.get("is_anonymous", True),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
            "correct_option_ids": [int(c) for c in correct],
            "explanation": params.get("explanation"),
        }
        self.polls.append(poll)
        msg = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT,
            "poll": poll,
        }
        return msg

    def _sendDocument(self, params):
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT,
            "document": {"file_id": "f", "file_unique_id": "u", "file_name": "x.docx"},
        }

    def _sendPhoto(self, params):
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT,
            "photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}],
        }

    # -------------------------------------------------------------- helpers for tests

    def sent(self, method: str | None = None) -> list[dict]:
        """Parameters of the calls of ``method`` (all calls when None)."""
        return [p for m, p in self.calls if method is None or m == method]

    def last_text(self) -> str:
        for m, p in reversed(self.calls):
            if m in ("sendMessage", "editMessageText"):
                return visible_text(p["text"])[0]
        raise AssertionError("the bot sent no text")

    def last_buttons(self) -> list[tuple[str, str]]:
        for m, p in reversed(self.calls):
            if m in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
                rows = (p.get("reply_markup") or {}).get("inline_keyboard", [])
                return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]
        return []

    def clear(self) -> None:
        self.calls.clear()


class _ApiError(Exception):
    pass


class UpdateFactory:
    """Builds real Update objects, as Telegram would deliver them."""

    def __init__(self, bot, user_id: int = 4242, first_name: str = "Lan"):
        self.bot = bot
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "username": "lan_xa",
            "language_code": "vi",
        }
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._ids = itertools.count(1)

    def text(self, text: str) -> Update:
        msg = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return Update.de_json({"update_id": next(self._ids), "message": msg}, self.bot)

    def sticker(self) -> Update:
        msg = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        return Update.de_json({"update_id": next(self._ids), "message": msg}, self.bot)

    def edited(self, message_id: int, text: str) -> Update:
        msg = {
            "message_id": message_id,
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        return Update.de_json({"update_id": next(self._ids), "edited_message": msg}, self.bot)

    def photo(self, caption: str = "") -> Update:
        msg = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 800, "height": 600}],
        }
        if caption:
            msg["caption"] = caption
        return Update.de_json({"update_id": next(self._ids), "message": msg}, self.bot)

    def document(self, name: str, caption: str = "") -> Update:
        msg = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "document": {"file_id": "d1", "file_unique_id": "du1", "file_name": name},
        }
        if caption:
            msg["caption"] = caption
        return Update.de_json({"update_id": next(self._ids), "message": msg}, self.bot)

    def in_group(self, text: str = "", joined: dict | None = None) -> Update:
        """A message in a group the bot is in: text, or the service message of a member joining."""
        msg = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "from": self.user,
            "chat": {"id": -100123, "type": "supergroup", "title": "Tổ ISO tỉnh"},
        }
        if joined:
            msg["new_chat_members"] = [joined]
        else:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return Update.de_json({"update_id": next(self._ids), "message": msg}, self.bot)

    def vote(self, poll_id: str, option: int) -> Update:
        """The user's answer to a non-anonymous poll (a PollAnswer update, which has no chat)."""
        return Update.de_json(
            {
                "update_id": next(self._ids),
                "poll_answer": {
                    "poll_id": poll_id,
                    "user": self.user,
                    "option_ids": [option],
                    "option_persistent_ids": [str(option)],
                },
            },
            self.bot,
        )

    def press(self, data: str, message: dict) -> Update:
        cq = {"id": str(next(self._ids)), "from": self.user, "chat_instance": "ci-1", "data": data, "message": message}
        return Update.de_json({"update_id": next(self._ids), "callback_query": cq}, self.bot)
