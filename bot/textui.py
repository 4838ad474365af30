"""Buttons as numbered options, for chats that have no buttons: Zalo and the terminal.

A reply's buttons become lines "1. Label" under its text, with "Gõ số để chọn; 0 = menu"; a quiz
question shows its options as "A. …" to be answered with the letter. What each number (and letter)
stands for is kept in SQLite per chat (:meth:`bot.storage.Storage.save_screen`), so "2" typed after a
restart still means the second option. A message without options (a chart, a file) leaves the menu
above it in force, as on the phone it is still the last menu. A number that means nothing on the
current menu gets a polite "that number is not on the menu" with that menu again (or the main menu),
never another action. Typing
an option's label works too ("tiếp", "quay lại", "đạt", "chưa đạt", "huỷ").

A message shown beside a flow (``Reply.aside``: a broadcast arriving mid-checklist, a question
answered mid-checklist) does not take the numbers over while a checklist or quiz is in progress: the
screen's options keep theirs, and the aside's options are numbered after them ("9. ✅ Đã nhận"), so
the "1" meant for «Đạt» is «Đạt». A long aside that has a ``brief`` shows only that there, with its
``more`` option first ("9. 📄 Đọc toàn bộ thông báo"), so it neither pushes the checklist item off
the screen nor splits into pages whose "1. Xem tiếp" would take the "1". During a quiz question,
text that is no letter gets the question again with "gõ A, B, C hoặc D".

A message longer than the channel allows (Zalo: 2,000 characters) is cut into pages at paragraph or
line breaks; each page but the last ends with "1. Xem tiếp (2/3)". Files become links (a picture is
sent as a photo where the channel can fetch it) through the ``publish`` function of the front-end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot import nav
from bot.home import main_menu
from bot.reply import Attachment, Button, Reply, User, numbered
from bot.text import fold

if TYPE_CHECKING:
    from bot.dialog import Core

ZALO_LIMIT = 2000  # characters (code points) per Zalo message
LETTERS = "ABCD"
NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# A line of the text that a phone (or a test driver) would read as an option: "1. …" becomes "(1) …"
LISTED = re.compile(r"^(\s*)(\d{1,3})[.)](?=\s)", re.M)
SYNONYMS = (
    {"quay lai", "tro lai", "truoc", "lui", "back"},
    {"tiep", "tiep theo", "xem tiep", "next", "sau"},
    {"huy", "huy bo", "cancel"},
    {"xem them", "them", "trang sau"},
)


@dataclass(frozen=True)
class Out:
    """One message to send: text, or a picture (``photo`` is its URL or path) with the text as caption."""

    text: str
    photo: str = ""


Publish = Callable[[Attachment], "str | None"]


class TextUI:
    """Turns typed text into core calls and replies into messages for one channel without buttons."""

    def __init__(
        self,
        core: Core,
        channel: str,
        *,
        publish: Publish,
        limit: int = ZALO_LIMIT,
        photos: bool = True,
        link_key: str = "file_link",
        link_hours: float = 24,
    ):
        self.core = core
        self.channel = channel
        self.publish = publish
        self.limit = limit
        self.photos = photos
        self.link_key = link_key
        self.link_hours = link_hours

    @property
    def kb(self):
        return self.core.kb

    # ------------------------------------------------------------------ incoming

    def handle(self, user: User, text: str) -> list[Out]:
        """What the user typed, answered: a command, an option number or label, a page turn, or text."""
        typed = (text or "").strip()
        screen = self._screen(user)
        if typed.startswith("/") and len(typed) > 1:
            name, _, arg = typed[1:].partition(" ")
            return self.render(user, self.core.command(user, name.split("@")[0], arg.strip()))
        kind, value = self.choose(screen, typed)
        if kind == "page":
            return self._next_page(user, screen)
        if kind == "press":
            reply = self.core.press(user, value)
        elif kind == "menu":
            reply = self.core.press(user, nav.HOME.data())
        elif kind in ("stale", "text") and not self._stop_word(typed) and self._quiz_waits(user, screen):
            return [Out(self.kb.text("quiz_type_letter") + "\n\n" + screen["question"])]  # "E", "5", "ko biet"
        elif kind == "stale" and screen.get("block") and not screen.get("pages"):
            return [Out(self.kb.text("option_stale_here") + screen["block"])]  # the same menu, shown again
        elif kind == "stale":
            reply = Reply(buttons=main_menu(self.core.ctx, user), stale=True).add(self.kb.text("option_stale"))
        else:
            reply = self.core.text(user, text, self.channel)
        return self.render(user, reply)

    def _quiz_waits(self, user: User, screen: dict) -> bool:
        """A quiz question is the screen (its letters, no options of its own) and the quiz is current."""
        if not (screen.get("letters") and screen.get("question")) or screen.get("pages"):
            return False
        if any(k not in (screen.get("aside") or ()) for k in screen.get("options") or {}):
            return False
        return self.core.storage is not None and self.core.quizzes.current(user) is not None

    def _stop_word(self, typed: str) -> bool:
        return bool(re.match(self.kb.text("quiz_patterns_stop"), fold(typed)))

    def choose(self, screen: dict, typed: str) -> tuple[str, str | None]:
        """("press", data), ("page", None), ("menu", None), ("stale", None) or ("text", None)."""
        pages = screen.get("pages") or []
        options: dict[str, str] = screen.get("options") or {}
        letters: dict[str, str] = screen.get("letters") or {}
        aside = set(screen.get("aside") or ())  # the options of a message shown beside the screen's own
        own = [k for k in options if k not in aside]
        m = NUMBER.match(typed)
        if m:
            n = int(m.group(1))
            if n == 0:
                return "menu", None
            if pages and n == 1:
                return "page", None
            if str(n) in options and (not pages or str(n) in aside):
                return "press", options[str(n)]
            if letters and not own and not pages and 1 <= n <= len(letters):  # "2" on a quiz question means B
                return "press", letters[LETTERS[n - 1]]
            return "stale", None
        folded = fold(typed)
        if pages and _same(folded, "tiep"):
            return "page", None
        if letters:
            q = re.match(self.kb.text("quiz_patterns_option"), folded)
            letter = q.group(3).upper() if q else ""
            if letter.isdigit():
                letter = LETTERS[int(letter) - 1] if not own else ""
            if letter in letters:
                return "press", letters[letter]
        if folded:
            for key, label in (screen.get("labels") or {}).items():
                if key in options and (not pages or key in aside) and (folded == label or _same(folded, label)):
                    return "press", options[key]
        return "text", None

    # ------------------------------------------------------------------ outgoing

    def render(self, user: User, reply: Reply, *, remember: bool = True) -> list[Out]:
        """The reply as messages within the limit; its options become the chat's current screen (an
        aside's are added to it)."""
        in_flow = reply.aside and remember and self.core.in_flow(user)  # idle, a notice's options are 1, 2…
        if in_flow and reply.brief and reply.more is not None:  # a long notice mid-checklist: its start
            reply = replace(reply, parts=[("", reply.brief)], buttons=[[reply.more], *reply.buttons], brief="")
        base = _own(self._screen(user)) if in_flow else {}
        first = max(len(base.get("options") or {}), len(base.get("letters") or {}), 1 if base.get("pages") else 0)
        options, labels, letters, block = self._options(reply, first)
        body = self._body(user, reply)
        photo = ""
        if reply.attachment is not None:
            where = self.publish(reply.attachment)
            if where and reply.attachment.kind == "photo" and self.photos:
                photo = where
            elif where:
                body += "\n\n" + self.kb.text(
                    self.link_key, name=reply.attachment.file_name, url=where, hours=f"{self.link_hours:g}"
                )
            else:
                if reply.attachment.summary:
                    body += "\n\n" + reply.attachment.summary
                body += "\n\n" + self.kb.text("file_no_link", name=reply.attachment.file_name)
        pages = self._paginate(body, block)
        if remember and first and options and not letters and len(pages) == 1:
            self._save(
                user,
                {
                    **base,
                    "options": {**base.get("options", {}), **options},
                    "labels": {**base.get("labels", {}), **labels},
                    "aside": list(options),
                },
            )
            return [Out(pages[0], photo)]
        if first:  # an aside too long for one message, or with a quiz question: it takes the screen over
            options, labels, letters, block = self._options(reply)
            pages = self._paginate(body, block)
        if remember and (options or letters):
            self._save(
                user,
                {
                    "options": options,
                    "labels": labels,
                    "letters": letters,
                    "pages": pages[1:],
                    "block": block if options and not letters else "",
                    "question": pages[-1] if letters and not options else "",
                },
            )
        elif remember and len(pages) > 1:  # a long text without options: the menu above stays the menu
            self._save(user, {**self._screen(user), "pages": pages[1:]})
        return [Out(pages[0], photo)]

    def _options(self, reply: Reply, first: int = 0) -> tuple[dict, dict, dict, str]:
        """The reply's buttons numbered from ``first`` + 1, its quiz letters, and the block of lines."""
        options: dict[str, str] = {}
        labels: dict[str, str] = {}
        letters: dict[str, str] = {}
        lines = []
        home = nav.HOME.data()
        shown: list[Button] = []
        for row in reply.buttons:
            for b in row:
                if b.data != home and all(b.data != o.data for o in shown):
                    shown.append(b)
        for key, b in numbered(shown, first):
            options[key], labels[key] = b.data, fold(b.label)
            lines.append(f"{key}. {b.listed if b.listed and not first else b.label}")
        poll = reply.poll
        if poll is not None:
            from bot.quizzes import ANSWER

            for i, _ in enumerate(poll.options[: len(LETTERS)]):
                letters[LETTERS[i]] = ANSWER.data(poll.session_id, poll.index, i)
        if letters:
            footer = self.kb.text("options_footer_quiz", letters=", ".join(LETTERS[: len(letters)]))
        elif options and first:
            footer = self.kb.text("options_footer_aside", last=first)
        elif options:
            footer = self.kb.text("options_footer")
        else:
            footer = self.kb.text("options_footer_menu")
        block = "\n\n" + "\n".join(lines + [footer]) if lines else "\n\n" + footer
        return options, labels, letters, block

    def _body(self, user: User, reply: Reply) -> str:
        text = LISTED.sub(lambda m: f"{m.group(1)}({m.group(2)})", reply.text.strip())
        if reply.toast and (not text or reply.mode == "markup"):
            text = reply.toast + ("\n\n" + text if text and reply.toast not in text else "")
        if reply.answered is not None:
            a = reply.answered
            verdict = (
                self.kb.text("quiz_right")
                if a.correct
                else self.kb.text("quiz_wrong", letter=a.letter, option=a.right_option)
            )
            text = f"{verdict}\n💡 {a.explanation}" + ("\n\n" + text if text else "")
        if reply.poll is not None:
            p = reply.poll
            choices = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(p.options[: len(LETTERS)]))
            text = (text + "\n\n" if text else "") + f"{p.question}\n{choices}"
        return text or "…"

    def _paginate(self, body: str, block: str) -> list[str]:
        if len(body) + len(block) <= self.limit:
            return [body + block]
        more = "\n\n" + "1. " + self.kb.text("page_more", page=99, pages=99) + "\n" + self.kb.text("options_footer")
        room = self.limit - max(len(block), len(more)) - 2
        chunks = split_text(body, room)
        pages = []
        for i, chunk in enumerate(chunks[:-1]):
            pages.append(
                chunk
                + "\n\n1. "
                + self.kb.text("page_more", page=i + 2, pages=len(chunks))
                + "\n"
                + self.kb.text("options_footer")
            )
        return pages + [chunks[-1] + block]

    def _next_page(self, user: User, screen: dict) -> list[Out]:
        pages = list(screen.get("pages") or [])
        page = pages.pop(0)
        self._save(user, {**screen, "pages": pages})
        return [Out(page)]

    def _screen(self, user: User) -> dict:
        storage = self.core.storage
        return (storage.load_screen(self.channel, user.account) if storage else None) or {}

    def _save(self, user: User, screen: dict) -> None:
        if self.core.storage:
            self.core.storage.save_screen(self.channel, user.account, screen)


def _own(screen: dict) -> dict:
    """The screen without the options of an aside shown on it (they go when the next aside comes)."""
    aside = set(screen.get("aside") or ())
    if not aside:
        return screen
    keep = {k: v for k, v in (screen.get("options") or {}).items() if k not in aside}
    labels = {k: v for k, v in (screen.get("labels") or {}).items() if k not in aside}
    return {**screen, "options": keep, "labels": labels, "aside": []}


def _same(folded: str, label: str) -> bool:
    """ "quay lại" and «⬅️ Trước», "tiếp" and «Tiếp ➡️»: the same choice in other words."""
    return any(folded in group and label in group for group in SYNONYMS)


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at a blank line, else a line break,
    else a space, else anywhere."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), -1)
        if cut < limit // 3:
            cut = rest.rfind("\n", 0, limit)
        if cut < limit // 3:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 3:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    return parts + [rest] if rest else parts or [""]
