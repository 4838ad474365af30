"""The conversation, independent of any chat network.

Telegram handlers and the terminal chat both call :class:`Core` and render the :class:`Reply` it
returns. Button presses arrive as short callback strings (``e:<entry id>``), parsed in one place
(:func:`parse_callback`); anything unknown, stale or forged gets a polite reply, never an exception.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import forms, knowledge, yearly
from bot.guides import GuideScreens, guides_for_entry
from bot.config import Config
from bot.knowledge import Entry, KnowledgeBase
from bot.reply import (  # noqa: F401 - re-exported for front-ends
    MAX_CALLBACK_BYTES, Attachment, Button, Callback, Reply, User, parse_callback, short,
)
from bot.search import MAX_QUERY_CHARS, SearchResult, Searcher

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

TOPIC_PAGE_SIZE = 8
MAX_RELATED = 3
HUGE_MESSAGE_CHARS = 1000    # beyond this we warn that only the start was read

class Core:
    """The bot's behaviour: every front-end calls these methods."""

    def __init__(self, kb: KnowledgeBase, searcher: Searcher, storage: "Storage | None" = None, *,
                 timezone: str = "Asia/Ho_Chi_Minh", today=None):
        self.kb = kb
        self.searcher = searcher
        self.storage = storage
        self.tz = ZoneInfo(timezone)
        self._today = today          # tests pass a fixed date; None = the real clock
        self.guides = GuideScreens(kb, storage)

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return self._today() if callable(self._today) else datetime.now(self.tz).date()

    # ------------------------------------------------------------------ commands

    def start(self, user: User) -> Reply:
        """Welcome and the main menu."""
        self._touch(user)
        name = user.first_name or "anh/chị"
        return Reply(buttons=self.main_menu()).add(self.kb.text("welcome", name=name))

    def help(self, user: User) -> Reply:
        self._touch(user)
        return Reply(buttons=[[Button(self.kb.text("btn_topics"), "tg"), Button(self.kb.text("btn_home"), "m")]]).add(
            self.kb.text("help"))

    def topics(self, user: User, mode: str = "send") -> Reply:
        """The topic groups (first level of /chude)."""
        self._touch(user)
        rows = [[Button(short(g.title), f"g:{g.id}")] for g in self.kb.groups.values()]
        rows.append([Button(self.kb.text("btn_home"), "m")])
        return Reply(buttons=rows, mode=mode).add(self.kb.text("topics_intro"))

    def unknown_command(self, user: User, command: str) -> Reply:
        return Reply(buttons=self.main_menu()).add(self.kb.text("unknown_command", command=command[:40]))

    def non_text(self, user: User) -> Reply:
        return Reply(buttons=[[Button(self.kb.text("btn_topics"), "tg")]]).add(self.kb.text("non_text"))

    def main_menu(self) -> list[list[Button]]:
        return [
            [Button(self.kb.text("btn_topics"), "tg"), Button(self.kb.text("btn_guides"), "gh")],
            [Button(self.kb.text("btn_forms"), "fl"), Button(self.kb.text("btn_calendar"), "cal")],
            [Button(self.kb.text("btn_help"), "h")],
        ]

    # ------------------------------------------------------------------ guides, forms, calendar

    def guide_home(self, user: User) -> Reply:
        """/huongdan: the guides, with 'continue' where the user stopped."""
        self._touch(user)
        return self.guides.home(user)

    def forms_list(self, user: User, mode: str = "send") -> Reply:
        """/bieumau: every form, one tap to get the .docx."""
        self._touch(user)
        rows = [[Button("📄 " + short(f.name), f"fm:{f.id}")] for f in self.kb.forms.values()]
        rows.append([Button(self.kb.text("btn_guides"), "gh"), Button(self.kb.text("btn_home"), "m")])
        return Reply(buttons=rows, mode=mode).add(self.kb.text("forms_intro"))

    def form_document(self, user: User, form_id: str, unit: str = "") -> Reply | None:
        """The generated .docx of one form, sent as a document."""
        form = self.kb.forms.get(form_id)
        if form is None:
            return None
        data = forms.render(self.kb, form_id, unit=unit, year=self.today().year)
        caption = self.kb.text("form_caption", name=form.name)
        return Reply(attachment=Attachment(forms.file_name(form), data, caption)).add(caption)

    def calendar(self, user: User) -> Reply:
        """/lich: this year's ISO calendar."""
        self._touch(user)
        return yearly.calendar_reply(self.kb, self.today())

    # ------------------------------------------------------------------ questions

    def ask(self, user: User, text: str, channel: str = "telegram") -> Reply:
        """Answer a free-text question: the answer, "Ý anh/chị là…?" suggestions, or a polite decline."""
        self._touch(user)
        text = (text or "").strip()
        if not text:
            return Reply().add(self.kb.text("empty_question"))
        result = self.searcher.search(text[:MAX_QUERY_CHARS])
        asked_id = self._log_question(user, channel, text, result)
        if result.outcome == "answer":
            reply = self.render_entry(user, result.best.entry, asked_id=asked_id, alternatives=result.alternatives)
        elif result.outcome == "suggest":
            reply = self._suggest(result)
        elif result.outcome == "empty":
            reply = Reply().add(self.kb.text("empty_question"))
        else:
            reply = Reply(buttons=self._group_rows()).add(self.kb.text("not_found"))
        if len(text) > HUGE_MESSAGE_CHARS:
            reply.parts.insert(0, ("i", self.kb.text("too_long", limit=MAX_QUERY_CHARS) + "\n\n"))
        return reply

    def _suggest(self, result: SearchResult) -> Reply:
        rows = [[Button(short(h.entry.title), f"e:{h.entry.id}")] for h in result.alternatives]
        rows.append([Button(self.kb.text("btn_topics"), "tg")])
        return Reply(buttons=rows).add(self.kb.text("did_you_mean"))

    def render_entry(self, user: User, entry: Entry, *, asked_id: int | None = None,
                     alternatives: list | None = None, via: str = "question") -> Reply:
        """An answer with its sources, related questions and 👍/👎 buttons."""
        shown_id = self.storage.log_shown(user.id, entry.id, asked_id, via) if self.storage else 0
        reply = Reply()
        reply.add(entry.title, "b").add("\n\n").add(entry.answer.strip())
        sources = "; ".join(str(s) for s in entry.sources)
        reply.add("\n\n").add(f"{self.kb.text('sources_label')}: {sources}", "i")
        rows = [[Button("🔗 " + short(self.kb.entries[r].title), f"e:{r}")]
                for r in entry.related[:MAX_RELATED] if r in self.kb.entries]
        if alternatives:
            reply.add("\n\n").add(self.kb.text("maybe_label"))
            rows = [[Button("❔ " + short(h.entry.title), f"e:{h.entry.id}")] for h in alternatives[:2]] + rows
        rows += self._guide_rows(entry)
        rows.append(self._feedback_row(shown_id))
        rows.append([Button(self.kb.text("btn_topics"), "tg"), Button(self.kb.text("btn_home"), "m")])
        reply.buttons = rows
        return reply

    def _guide_rows(self, entry: Entry) -> list[list[Button]]:
        rows = []
        for g in guides_for_entry(self.kb, entry.id)[:1]:
            step = next((i for i, s in enumerate(g.steps) if entry.id in s.entries), 0)
            rows.append([Button(short(self.kb.text("guide_button", title=g.title), 60), f"gs:{g.id}:{step}")])
        return rows

    def _feedback_row(self, shown_id: int) -> list[Button]:
        return [Button(self.kb.text("btn_up"), f"f:{shown_id}:u"), Button(self.kb.text("btn_down"), f"f:{shown_id}:d")]

    # ------------------------------------------------------------------ buttons

    def press(self, user: User, data: str | None) -> Reply:
        """Handle a button press. Unknown, stale or forged data gets the 'stale button' reply."""
        self._touch(user)
        cb = parse_callback(data)
        handler = getattr(self, f"_press_{cb.kind}", None) if cb else None
        reply = handler(user, *cb.args) if handler else None
        if reply is None:
            log.info("stale or forged callback from user %s: %r", user.id, data)
            return self.stale()
        return reply

    def stale(self) -> Reply:
        text = self.kb.text("stale_button")
        return Reply(buttons=self.main_menu(), toast=text, alert=False).add(text)

    def _press_gh(self, user: User) -> Reply:
        return self.guides.home(user, mode="edit")

    def _press_gs(self, user: User, guide_id: str, step: str) -> Reply | None:
        return self.guides.step(user, guide_id, step)

    def _press_gl(self, user: User, guide_id: str) -> Reply | None:
        return self.guides.steps_list(user, guide_id)

    def _press_gf(self, user: User, guide_id: str) -> Reply | None:
        return self.guides.forms(user, guide_id)

    def _press_fl(self, user: User) -> Reply:
        return self.forms_list(user, mode="edit")

    def _press_fm(self, user: User, form_id: str) -> Reply | None:
        return self.form_document(user, form_id)

    def _press_cal(self, user: User) -> Reply:
        return self.calendar(user)

    def _press_m(self, user: User) -> Reply:
        reply = self.start(user)
        reply.mode = "send"
        return reply

    def _press_h(self, user: User) -> Reply:
        return self.help(user)

    def _press_tg(self, user: User) -> Reply:
        return self.topics(user, mode="edit")

    def _press_g(self, user: User, group_id: str) -> Reply | None:
        group = self.kb.groups.get(group_id)
        if not group:
            return None
        rows = []
        for tid in group.topics:
            count = len(self.kb.entries_in_topic(tid))
            rows.append([Button(short(f"{self.kb.topics[tid].title} ({count})"), f"t:{tid}:0")])
        rows.append([Button(self.kb.text("btn_back"), "tg"), Button(self.kb.text("btn_home"), "m")])
        return Reply(buttons=rows, mode="edit").add(self.kb.text("group_intro", group=group.title))

    def _press_t(self, user: User, topic_id: str, page: str) -> Reply | None:
        topic = self.kb.topics.get(topic_id)
        if not topic or not page.isdigit():
            return None
        entries = self.kb.entries_in_topic(topic_id)
        pages = max(1, -(-len(entries) // TOPIC_PAGE_SIZE))
        p = int(page)
        if p >= pages:
            return None
        chunk = entries[p * TOPIC_PAGE_SIZE:(p + 1) * TOPIC_PAGE_SIZE]
        rows = [[Button(short(e.title), f"e:{e.id}")] for e in chunk]
        nav = []
        if p > 0:
            nav.append(Button(self.kb.text("btn_prev"), f"t:{topic_id}:{p - 1}"))
        if p + 1 < pages:
            nav.append(Button(self.kb.text("btn_more"), f"t:{topic_id}:{p + 1}"))
        if nav:
            rows.append(nav)
        rows.append([Button(self.kb.text("btn_back"), f"g:{topic.group}"), Button(self.kb.text("btn_home"), "m")])
        text = self.kb.text("topic_intro", topic=topic.title, count=len(entries)) if entries else self.kb.text("topic_empty")
        if pages > 1:
            text += "\n" + self.kb.text("page_label", page=p + 1, pages=pages)
        return Reply(buttons=rows, mode="edit").add(text)

    def _press_e(self, user: User, entry_id: str) -> Reply | None:
        entry = self.kb.entries.get(entry_id)
        return self.render_entry(user, entry, via="button") if entry else None

    def _press_f(self, user: User, shown_id: str, vote: str) -> Reply | None:
        if not shown_id.isdigit() or vote not in ("u", "d") or not self.storage:
            return None
        shown = self.storage.get_shown(int(shown_id))
        if not shown or shown["user_id"] != user.id:
            return None
        entry = self.kb.entries.get(shown["entry_id"])
        if not entry:
            return None
        if not self.storage.add_feedback(user.id, shown["id"], entry.id, 1 if vote == "u" else -1):
            return Reply(mode="markup", toast=self.kb.text("feedback_already"),
                         buttons=self._without_feedback(entry))
        toast = self.kb.text("feedback_thanks_up" if vote == "u" else "feedback_thanks_down")
        return Reply(mode="markup", toast=toast, buttons=self._without_feedback(entry))

    def _without_feedback(self, entry: Entry) -> list[list[Button]]:
        rows = [[Button("🔗 " + short(self.kb.entries[r].title), f"e:{r}")]
                for r in entry.related[:MAX_RELATED] if r in self.kb.entries]
        rows += self._guide_rows(entry)
        rows.append([Button(self.kb.text("btn_topics"), "tg"), Button(self.kb.text("btn_home"), "m")])
        return rows

    # ------------------------------------------------------------------ helpers

    def _group_rows(self) -> list[list[Button]]:
        return [[Button(short(g.title), f"g:{g.id}")] for g in self.kb.groups.values()]

    def _touch(self, user: User) -> None:
        if self.storage:
            self.storage.touch_user(user.id, user.first_name, user.username)

    def _log_question(self, user: User, channel: str, text: str, result: SearchResult) -> int | None:
        if not self.storage:
            return None
        best = result.best
        return self.storage.log_question(
            user.id, channel, text[:2000], result.normalized, result.outcome,
            best.entry.id if best else None, best.score if best else None,
        )

    # ------------------------------------------------------------------ machine-readable answer

    def answer_json(self, question: str) -> dict:
        """The stable JSON shape of ``isobot ask --json``."""
        result = self.searcher.search((question or "")[:MAX_QUERY_CHARS])
        matched = result.matched
        best = result.best
        if matched:
            answer = best.entry.answer.strip()
        elif result.outcome == "suggest":
            answer = self.kb.text("did_you_mean")
        elif result.outcome == "empty":
            answer = self.kb.text("empty_question")
        else:
            answer = self.kb.text("not_found")
        suggestions = result.alternatives
        return {
            "matched": matched,
            "entry_id": best.entry.id if matched else None,
            "title": best.entry.title if matched else None,
            "answer": answer,
            "score": best.score if best else 0.0,
            "sources": [str(s) for s in best.entry.sources] if matched else [],
            "suggestions": [{"entry_id": h.entry.id, "title": h.entry.title, "score": h.score} for h in suggestions],
        }


def build_core(config: Config, *, with_storage: bool = True) -> Core:
    """Load the knowledge base once, index it, open the database: the one way every front-end starts."""
    kb = knowledge.load(config.knowledge_dir)
    from bot.storage import Storage  # sqlite-utils is only imported where a database is used

    storage = Storage(config.database) if with_storage else None
    return Core(kb, Searcher(kb, config.search), storage, timezone=config.timezone)
