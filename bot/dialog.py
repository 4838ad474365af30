"""The conversation, independent of any chat network.

Telegram handlers and the terminal chat both call :class:`Core` and render the :class:`Reply` it
returns. Button presses arrive as short callback strings (``e:<entry id>``), parsed in one place
(:func:`parse_callback`); anything unknown, stale or forged gets a polite reply, never an exception.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import forms, knowledge, yearly
from bot import units
from bot.checklists import ChecklistScreens
from bot.quizzes import QuizScreens, TeamQuizScreens
from bot.reminders import ReminderScreens
from bot.guides import GuideScreens, guides_for_entry
from bot.config import Config
from bot.knowledge import Entry, KnowledgeBase
from bot.reply import (  # noqa: F401 - re-exported for front-ends
    MAX_CALLBACK_BYTES, Attachment, Button, Callback, Reply, User, parse_callback, short,
)
from bot.search import MAX_QUERY_CHARS, SearchResult, Searcher
from bot.text import fold

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

BUTTON_WORDS = {"dat", "dat mot phan", "mot phan", "chua dat", "khong ap dung", "bo qua", "co", "khong", "ok", "roi",
                "chua", "1", "2", "3", "4", "tiep", "tiep tuc", "tam dung"}
STATELESS = {"m", "h", "tg", "g", "t", "e", "gh", "gs", "gl", "gf", "fl", "fm", "cal"}  # work without a database
TOPIC_PAGE_SIZE = 8
MAX_RELATED = 3
HUGE_MESSAGE_CHARS = 1000    # beyond this we warn that only the start was read
WEAK_ANSWER_POINTS = 10      # mid-checklist, an answer this close to the threshold also offers "save as note"


SHORTCUTS = ("menu", "help", "topics", "guides", "checklists", "quiz", "forms", "calendar", "profile", "leaderboard",
             "daily", "reminders", "progress")
SHORTCUTS_WITH_PROGRESS = {"checklists", "quiz", "profile", "leaderboard", "daily", "reminders", "progress"}
SHORTCUT_MAX_CHARS = 40    # a menu item's name with a few polite words; anything longer is a question


class Core:
    """The bot's behaviour: every front-end calls these methods."""

    def __init__(self, kb: KnowledgeBase, searcher: Searcher, storage: "Storage | None" = None, *,
                 timezone: str = "Asia/Ho_Chi_Minh", today=None, now=None, province: str = "",
                 admin_ids=frozenset()):
        self.kb = kb
        self.searcher = searcher
        self.storage = storage
        self.tz = ZoneInfo(timezone)
        self._today = today          # tests pass a fixed date; None = the real clock
        self._now = now
        self.guides = GuideScreens(kb, storage)
        self.checklists = ChecklistScreens(kb, storage)
        self.quizzes = QuizScreens(kb, storage, self.today)
        self.province = units.find_province(province) if province else None
        self.admin_ids = frozenset(admin_ids)
        self._scheduler = None       # set by a front-end that can run timed jobs (Telegram's JobQueue)
        self.reminders = ReminderScreens(kb, storage, self.now, self.tz, self.province)
        self.teamquiz = TeamQuizScreens(kb, storage, self.quizzes, self.today, self.reminders._match_units, self.province)

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return self._today() if callable(self._today) else datetime.now(self.tz).date()

    def now(self) -> datetime:
        """The current time in the configured time zone (tests may pass ``now=``)."""
        return self._now() if callable(self._now) else datetime.now(self.tz)

    @property
    def scheduler(self):
        return self._scheduler

    @scheduler.setter
    def scheduler(self, value) -> None:
        self._scheduler = value
        self.reminders.scheduler = value

    # ------------------------------------------------------------------ commands

    def start(self, user: User) -> Reply:
        """Welcome and the main menu; unregistered users are offered unit registration."""
        self._touch(user)
        if self.storage:
            self.storage.clear_state(user.id)  # /start always gets the user out of a pending prompt
        name = user.first_name or "anh/chị"
        reply = Reply(buttons=self.main_menu(user)).add(self.kb.text("welcome", name=name))
        if self.storage and not self.storage.unit_of(user.id):
            reply.add("\n\n" + self.kb.text("unit_hint"), "i")
        return reply

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

    def non_text(self, user: User, caption: str = "") -> Reply:
        """A sticker, photo, voice or file. A photo or file with a caption: the caption is the question."""
        if caption.strip():
            reply = self.text(user, caption)
            reply.parts.insert(0, ("i", self.kb.text("caption_only") + "\n\n"))
            return reply
        return Reply(buttons=[[Button(self.kb.text("btn_topics"), "tg")]]).add(self.kb.text("non_text"))

    def main_menu(self, user: User | None = None) -> list[list[Button]]:
        rows = [
            [Button(self.kb.text("btn_topics"), "tg"), Button(self.kb.text("btn_guides"), "gh")],
            [Button(self.kb.text("btn_checklists"), "ch"), Button(self.kb.text("btn_quiz"), "qh")],
            [Button(self.kb.text("btn_forms"), "fl"), Button(self.kb.text("btn_calendar"), "cal")],
            [Button(self.kb.text("btn_help"), "h")],
        ]
        if user is not None and self.storage:
            registered = self.storage.unit_of(user.id)
            rows.append([Button(self.kb.text("btn_profile" if registered else "btn_unit"), "pf" if registered else "ur")])
        return rows

    # ------------------------------------------------------------------ free text, units, profile

    def text(self, user: User, text: str, channel: str = "telegram") -> Reply:
        """Free text: the answer to a pending prompt (unit name, checklist note) or else a question."""
        state = self.storage.get_state(user.id) if self.storage else None
        folded = fold(text)
        if state and re.match(self.kb.text("cancel_patterns_prompt"), folded):
            return self.cancel(user)
        if state:
            name, data = state
            if name == "ck_note":
                self._touch(user)
                return self.checklists.save_note(user, data, text)
            if name == "unit_name":
                return self._unit_typed(user, text)
            if name == "agency_name":
                return self._agency_typed(user, text)
            if name.startswith("rem_"):
                denied = self.require(user, "inspector")
                return denied or self.reminders.on_text(user, name, text)
            if name.startswith("tq_"):
                denied = self.require(user, "inspector")
                return denied or self.teamquiz.on_text(user, name, data, text)
            self.storage.clear_state(user.id)
        if self.storage and folded in BUTTON_WORDS:
            runs = self.storage.open_runs(user.id)
            if runs:  # "dat", "chua dat"… typed instead of pressed: show the question again with its buttons
                reply = self.checklists.item(user, runs[-1], runs[-1]["position"], mode="send")
                reply.parts.insert(0, ("i", self.kb.text("ck_use_buttons") + "\n\n"))
                return reply
        if self.storage and re.match(self.kb.text("quiz_patterns_option"), folded) and self.storage.open_quiz(user.id):
            # "b", "đáp án c" typed during a quiz: the answer is a tap on the poll
            return Reply(buttons=[[Button(self.kb.text("btn_quiz"), "qh")]]).add(self.kb.text("quiz_use_poll"))
        reply, result = self._answer(user, text, channel)
        if result and self.storage and len(text.split()) >= 2 and self._unsure(result):
            runs = self.storage.open_runs(user.id)
            if runs:  # typed in the middle of a checklist: it may be a note for the current question
                self.checklists.offer_note(user, runs[-1], text, reply)
        return reply

    def _unsure(self, result: SearchResult) -> bool:
        """Declined, suggestions only, or answered with a score close to the threshold."""
        if result.outcome == "answer":
            return result.best.score < self.searcher.config.answer_threshold + WEAK_ANSWER_POINTS
        return result.outcome in ("suggest", "decline")

    def cancel(self, user: User) -> Reply:
        """/huy: drop whatever prompt is pending."""
        if self.storage and self.storage.get_state(user.id):
            self.storage.clear_state(user.id)
            return Reply(buttons=self.main_menu(user)).add(self.kb.text("unit_cancelled"))
        return Reply().add(self.kb.text("nothing_to_cancel"))

    def register_unit(self, user: User) -> Reply:
        """/donvi: ask which commune/ward (or agency) the user works for."""
        self._touch(user)
        if not self.storage:
            return Reply().add(self.kb.text("error"))
        self.storage.set_state(user.id, "unit_name")
        province = self.province.name if self.province else "…"
        return Reply(buttons=[[Button(self.kb.text("unit_agency_btn"), "ua")], [Button(self.kb.text("btn_cancel"), "ux")]]
                     ).add(self.kb.text("unit_prompt", province=province))

    def _unit_typed(self, user: User, text: str) -> Reply:
        province = self.province.code if self.province else None
        folded = fold(text)
        for code, place in units.provinces().items():  # "xa Tan Thanh lang son" names another province
            name = fold(place.name)
            rest = f" {folded} ".replace(f" {name} ", " ").strip()
            if rest != folded and len(rest.split()) >= 2:
                province, text = code, rest
                break
        places = units.match_wards(text[:100], province, limit=4)
        if not places and self.searcher.search(text).matched:
            self.storage.clear_state(user.id)   # it was a question, not a unit name: answer it
            return self.ask(user, text)
        if not places:
            return Reply(buttons=[[Button(self.kb.text("unit_agency_btn"), "ua")], [Button(self.kb.text("btn_cancel"), "ux")]]
                         ).add(self.kb.text("unit_not_found", text=text.strip()[:60]))
        rows = [[Button(short(p.label, 60), f"us:{p.code}")] for p in places]
        rows.append([Button(self.kb.text("btn_cancel"), "ux")])
        return Reply(buttons=rows).add(self.kb.text("unit_choose"))

    def _agency_typed(self, user: User, text: str) -> Reply:
        name = " ".join(text.split())[:120]
        if len(name) < 3:
            return Reply().add(self.kb.text("unit_agency_prompt"))
        province = self.province or next(iter(units.provinces().values()))
        unit_id = self.storage.get_or_create_unit("co-quan", name, province.code, province.name)
        return self._unit_done(user, unit_id)

    def _unit_done(self, user: User, unit_id: int) -> Reply:
        self.storage.set_user_unit(user.id, unit_id)
        self.storage.clear_state(user.id)
        unit = self.storage.get_unit(unit_id)
        label = f"{unit['name']} ({unit['province_name']})"
        return Reply(buttons=self.main_menu(user)).add(self.kb.text("unit_saved", unit=label))

    def profile(self, user: User) -> Reply:
        """/toi: who the user is for the bot."""
        self._touch(user)
        if not self.storage:
            return Reply().add(self.kb.text("error"))
        unit = self.storage.unit_of(user.id)
        role = self.role_of(user)
        runs = self.storage.count_done_runs(user.id)
        text = self.kb.text("profile_id", id=user.id) + "\n" + self.kb.text("profile", name=user.first_name or "anh/chị",
                            unit=f"{unit['name']} ({unit['province_name']})" if unit else self.kb.text("no_unit"),
                            role=self.kb.text(f"role_{role}"), runs=runs)
        return Reply(buttons=[[Button(self.kb.text("btn_unit"), "ur"), Button(self.kb.text("btn_checklists"), "ch")],
                              [Button(self.kb.text("btn_home"), "m")]]).add(text)

    def role_of(self, user: User) -> str:
        """official, inspector or admin (admins come from config.yaml)."""
        if user.id in self.admin_ids:
            return "admin"
        row = self.storage.get_user(user.id) if self.storage else None
        return (row or {}).get("role") or "official"

    # ------------------------------------------------------------------ roles, inspection team

    def require(self, user: User, role: str, action: str = "") -> Reply | None:
        """None when the user may act; otherwise a polite refusal, and the attempt is audit-logged."""
        have = self.role_of(user)
        if have == "admin" or (role == "inspector" and have == "inspector"):
            return None
        if self.storage:
            self.storage.audit(user.id, "denied", action or role)
        log.warning("user %s (%s) refused: needs %s for %s", user.id, have, role, action)
        text = self.kb.text("denied", role=self.kb.text(f"denied_{role}"))
        return Reply(toast=text, alert=True).add(text)

    def reminders_home(self, user: User) -> Reply:
        """/nhacviec: the reminders list and 'new' (inspectors)."""
        self._touch(user)
        return self.require(user, "inspector", "/nhacviec") or self.reminders.home(user)

    def admin(self, user: User, action: str = "", arg: str = "") -> Reply:
        """/quyen, /capquyen ID, /thuquyen ID: manage the inspector role (admins only, audit-logged)."""
        self._touch(user)
        denied = self.require(user, "admin", f"/{action or 'quyen'}")
        if denied:
            return denied
        if not action:
            names = ", ".join(f"{u['first_name'] or '…'} ({u['id']})" for u in self.storage.users_with_role("inspector"))
            return Reply().add(self.kb.text("admin_help") + "\n" + self.kb.text("admin_inspectors",
                                                                                 list=names or self.kb.text("admin_none")))
        target = arg.strip()
        if not target.isdigit():
            return Reply().add(self.kb.text("admin_usage"))
        if action == "grant":
            self.storage.set_role(int(target), "inspector")
            self.storage.audit(user.id, "role.grant", target, "inspector")
            return Reply().add(self.kb.text("admin_granted", id=target))
        if int(target) in self.admin_ids:
            return Reply().add(self.kb.text("admin_self"))
        self.storage.set_role(int(target), "official")
        self.storage.audit(user.id, "role.revoke", target, "inspector")
        return Reply().add(self.kb.text("admin_revoked", id=target))

    def progress(self, user: User, flt: str = "all", mode: str = "send") -> Reply:
        """/tiendo: every unit's progress, filterable; chart and exports (inspectors)."""
        from bot import progress as pg

        self._touch(user)
        denied = self.require(user, "inspector", "/tiendo")
        if denied:
            return denied
        if flt not in pg.FILTERS:
            return self.stale()
        rows = self._progress_rows(user, flt)
        r = Reply(mode=mode).add(self.kb.text("pg_title", n=len(rows), filter=self.kb.text(f"pg_f_{flt}")) + "\n", "b")
        for row in rows[:12]:
            score = "—" if row["latest_score"] is None else f"{row['latest_score']:.0f}"
            r.add("\n• " + self.kb.text("pg_row", unit=row["unit"], province=row["province"], members=row["members"],
                                        done=row["checklists_done"], score=score, gaps=row["open_gaps"],
                                        takers=row["quiz_takers"]))
        if len(rows) > 12:
            r.add("\n" + self.kb.text("pg_more", n=len(rows) - 12), "i")
        if not rows:
            r.add(self.kb.text("pg_none"))
        r.buttons = [[Button(self.kb.text(f"pg_f_{f}"), f"pg:{f}") for f in pg.FILTERS[:2]],
                     [Button(self.kb.text(f"pg_f_{f}"), f"pg:{f}") for f in pg.FILTERS[2:]],
                     [Button(self.kb.text("pg_btn_chart"), f"pc:{flt}"), Button(self.kb.text("pg_btn_xlsx"), f"px:{flt}"),
                      Button(self.kb.text("pg_btn_csv"), f"pv:{flt}")],
                     [Button(self.kb.text("btn_home"), "m")]]
        return r

    def _progress_rows(self, user: User, flt: str) -> list[dict]:
        from bot import progress as pg

        unit = self.storage.unit_of(user.id)
        province = unit["province_code"] if unit else (self.province.code if self.province else None)
        return pg.rows(self.storage, self.kb, flt, province)

    def progress_file(self, user: User, flt: str, kind: str) -> Reply | None:
        from bot import progress as pg

        denied = self.require(user, "inspector", f"progress.{kind}")
        if denied:
            return denied
        if flt not in pg.FILTERS:
            return None
        rows = self._progress_rows(user, flt)
        caption = self.kb.text("pg_caption")
        stamp = self.today().isoformat()
        if kind == "chart":
            return Reply(attachment=Attachment(f"tien-do-{stamp}.png", pg.chart_png(self.kb, rows), caption, "photo")).add(caption)
        if kind == "xlsx":
            return Reply(attachment=Attachment(f"tien-do-{stamp}.xlsx", pg.to_xlsx(self.kb, rows), caption)).add(caption)
        return Reply(attachment=Attachment(f"tien-do-{stamp}.csv", pg.to_csv(self.kb, rows), caption)).add(caption)

    def checklist_home(self, user: User) -> Reply:
        """/tudanhgia: the checklists, with 'continue' for open runs."""
        self._touch(user)
        return self.checklists.home(user)

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
        return self._answer(user, text, channel)[0]

    def _answer(self, user: User, text: str, channel: str) -> tuple[Reply, SearchResult | None]:
        """:meth:`ask`, and the search result (None for an empty message or small talk)."""
        self._touch(user)
        text = (text or "").strip()
        if not text:
            return Reply().add(self.kb.text("empty_question")), None
        small = self.smalltalk(text)
        if small:
            return Reply(buttons=self.main_menu(user)).add(self.kb.text(small)), None
        shortcut = self.shortcut(text)
        if shortcut:
            return self._open(user, shortcut), None
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
        return reply, result

    def shortcut(self, text: str) -> str | None:
        """'tự đánh giá', 'cho em xem lịch'…: the menu item a short message names (ui.yaml), or None."""
        folded = fold(text)
        if len(folded) > SHORTCUT_MAX_CHARS:
            return None
        name = re.sub(self.kb.text("shortcut_fillers"), "", folded).strip()
        for key in SHORTCUTS:
            if name and re.fullmatch(self.kb.text(f"shortcut_patterns_{key}"), name):
                return key
        return None

    def _open(self, user: User, shortcut: str) -> Reply:
        """The reply of the menu item ``shortcut`` names, exactly as its button gives it. Without a
        database (``isobot ask``) the items that keep per-user progress give the main menu."""
        if shortcut in SHORTCUTS_WITH_PROGRESS and not self.storage:
            shortcut = "menu"
        if shortcut == "menu":
            self._touch(user)
            return Reply(buttons=self.main_menu(user)).add(self.kb.text("menu_intro"))
        return {"help": self.help, "topics": self.topics, "guides": self.guide_home, "checklists": self.checklist_home,
                "quiz": self.quiz_home, "forms": self.forms_list, "calendar": self.calendar, "profile": self.profile,
                "leaderboard": self.leaderboard, "daily": self.daily_menu, "reminders": self.reminders_home,
                "progress": self.progress}[shortcut](user)

    def smalltalk(self, text: str) -> str | None:
        """'xin chào', 'cảm ơn ad'…: the ui.yaml key of a friendly reply, or None for a real question."""
        folded = fold(text)
        for key in ("greeting", "thanks", "ack"):
            if re.match(self.kb.text(f"smalltalk_patterns_{key}"), folded):
                return f"smalltalk_{key}"
        return None

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
        alternatives = (alternatives or [])[:2]
        rows = self._link_rows(entry, shown={h.entry.id for h in alternatives})
        if alternatives:
            reply.add("\n\n").add(self.kb.text("maybe_label"))
            rows = [[Button("❔ " + short(h.entry.title), f"e:{h.entry.id}")] for h in alternatives] + rows
        rows.insert(len(rows) - 1, self._feedback_row(shown_id))
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
        handler = getattr(self, f"_press_{cb.kind}", None) if cb and (self.storage or cb.kind in STATELESS) else None
        reply = handler(user, *cb.args) if handler else None
        if reply is None:
            log.info("stale or forged callback from user %s: %r", user.id, data)
            return self.stale()
        return reply

    def stale(self) -> Reply:
        text = self.kb.text("stale_button")
        return Reply(buttons=self.main_menu(), toast=text, alert=False).add(text)

    def _press_ur(self, user: User) -> Reply:
        return self.register_unit(user)

    def _press_us(self, user: User, code: str) -> Reply | None:
        place = units.wards().get(int(code)) if code.isdigit() else None
        if place is None or not self.storage:
            return None
        unit_id = self.storage.get_or_create_unit(place.kind, place.name, place.province_code, place.province_name,
                                                  ward_code=place.code)
        return self._unit_done(user, unit_id)

    def _press_ua(self, user: User) -> Reply:
        self.storage.set_state(user.id, "agency_name")
        return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "ux")]]).add(self.kb.text("unit_agency_prompt"))

    def _press_ux(self, user: User) -> Reply:
        return self.cancel(user)

    def _press_pf(self, user: User) -> Reply:
        return self.profile(user)

    def _press_ch(self, user: User) -> Reply:
        return self.checklists.home(user, mode="edit")

    def _press_co(self, user: User, checklist_id: str) -> Reply | None:
        return self.checklists.open(user, checklist_id)

    def _press_ca(self, user: User, run_id: str, idx: str, code: str) -> Reply | None:
        return self.checklists.answer(user, run_id, idx, code)

    def _press_cg(self, user: User, run_id: str, idx: str) -> Reply | None:
        return self.checklists.goto(user, run_id, idx)

    def _press_cn(self, user: User, run_id: str, idx: str) -> Reply | None:
        return self.checklists.ask_note(user, run_id, idx)

    def _press_cw(self, user: User, run_id: str, idx: str) -> Reply | None:
        return self.checklists.keep_draft(user, run_id, idx)

    def _press_cp(self, user: User, run_id: str) -> Reply | None:
        return self.checklists.pause(user, run_id)

    def _press_cr(self, user: User, run_id: str) -> Reply | None:
        return self.checklists.results(user, run_id)

    def _press_cc(self, user: User, run_id: str) -> Reply | None:
        return self.checklists.chart(user, run_id)

    def _press_cd(self, user: User, run_id: str) -> Reply | None:
        return self.checklists.report(user, run_id)

    # ------------------------------------------------------------------ inspection-team buttons
    # Every one re-checks the role on the server: a forged or replayed button from an official is refused.

    def _inspector_press(self, user: User, action: str, fn, *args) -> Reply | None:
        return self.require(user, "inspector", action) or fn(user, *args)

    def _press_rl(self, user: User) -> Reply:
        return self._inspector_press(user, "reminder.list", lambda u: self.reminders.home(u, mode="edit"))

    def _press_rn(self, user: User) -> Reply:
        return self._inspector_press(user, "reminder.new", self.reminders.start)

    def _press_rt(self, user: User, target: str) -> Reply | None:
        return self._inspector_press(user, "reminder.target", self.reminders.target, target)

    def _press_rc(self, user: User, checklist_id: str) -> Reply | None:
        return self._inspector_press(user, "reminder.checklist", self.reminders.checklist, checklist_id)

    def _press_rs(self, user: User, kind: str) -> Reply | None:
        return self._inspector_press(user, "reminder.kind", self.reminders.kind, kind)

    def _press_ri(self, user: User, event_id: str) -> Reply | None:
        return self._inspector_press(user, "reminder.event", self.reminders.event, event_id)

    def _press_rq(self, user: User, when: str) -> Reply | None:
        return self._inspector_press(user, "reminder.quick", self.reminders.quick, when)

    def _press_rk(self, user: User) -> Reply | None:
        return self._inspector_press(user, "reminder.save", self.reminders.save)

    def _press_rx(self, user: User) -> Reply:
        return self._inspector_press(user, "reminder.cancel", self.reminders.cancel)

    def _press_rp(self, user: User, rid: str) -> Reply | None:
        return self._inspector_press(user, "reminder.pause", self.reminders.set_status, rid, "paused")

    def _press_ru(self, user: User, rid: str) -> Reply | None:
        return self._inspector_press(user, "reminder.resume", self.reminders.set_status, rid, "active")

    def _press_rz(self, user: User, rid: str) -> Reply | None:
        return self._inspector_press(user, "reminder.cancel", self.reminders.set_status, rid, "cancelled")

    def _press_re(self, user: User, rid: str) -> Reply | None:
        return self._inspector_press(user, "reminder.edit", self.reminders.edit, rid)

    def _press_rv(self, user: User, rid: str) -> Reply | None:
        return self._inspector_press(user, "reminder.report", self._reminder_report, rid)

    def _reminder_report(self, user: User, rid: str) -> Reply | None:
        if not rid.isdigit():
            return None
        rows = list(self.storage.db.query("SELECT * FROM broadcasts WHERE reminder_id = ? ORDER BY id DESC LIMIT 1",
                                          [int(rid)]))
        if not rows:
            return Reply().add(self.kb.text("rem_report_none"))
        return Reply().add(self.broadcast_report(rows[0]["id"]))

    def broadcast_report(self, broadcast_id: int) -> str:
        b = self.storage.get_broadcast(broadcast_id)
        return self.kb.text("bc_report", title=short(b["text"].split("\n")[0], 50), total=b["total"], sent=b["sent"],
                            failed=b["failed"], blocked=b["blocked"], unknown=b["unknown"],
                            late=self.kb.text("bc_late") if b["late"] else "")

    def broadcast_progress(self, broadcast_id: int, done: int, total: int) -> str:
        from babel.numbers import format_decimal

        b = self.storage.get_broadcast(broadcast_id)
        return self.kb.text("bc_progress", title=short(b["text"].split("\n")[0], 50),
                            done=format_decimal(done, locale="vi"), total=format_decimal(total, locale="vi"))

    def team_quiz_home(self, user: User) -> Reply:
        """/quiznhom (inspectors): quizzes assigned to units, and their results."""
        self._touch(user)
        return self.require(user, "inspector", "/quiznhom") or self.teamquiz.home(user)

    def take_assigned_quiz(self, user: User, arg: str) -> Reply:
        """/lambai ID: start a quiz the inspection team assigned to the user's unit."""
        self._touch(user)
        return self.teamquiz.take(user, arg)

    def _press_qn(self, user: User) -> Reply:
        return self._inspector_press(user, "teamquiz.new", self.teamquiz.new)

    def _press_qo(self, user: User, topic: str) -> Reply | None:
        return self._inspector_press(user, "teamquiz.topic", self.teamquiz.topic, topic)

    def _press_qy(self, user: User, n: str) -> Reply | None:
        return self._inspector_press(user, "teamquiz.length", self.teamquiz.length, n)

    def _press_qu(self, user: User) -> Reply | None:
        return self._inspector_press(user, "teamquiz.units", self.teamquiz.all_province)

    def _press_qr(self, user: User, aid: str) -> Reply | None:
        return self._inspector_press(user, "teamquiz.results", self.teamquiz.results, aid)

    def _press_qx(self, user: User, aid: str) -> Reply | None:
        return self._inspector_press(user, "teamquiz.export", self.teamquiz.export, aid)

    def _press_pg(self, user: User, flt: str) -> Reply:
        return self.progress(user, flt, mode="edit")

    def _press_pc(self, user: User, flt: str) -> Reply | None:
        return self.progress_file(user, flt, "chart")

    def _press_px(self, user: User, flt: str) -> Reply | None:
        return self.progress_file(user, flt, "xlsx")

    def _press_pv(self, user: User, flt: str) -> Reply | None:
        return self.progress_file(user, flt, "csv")

    # ------------------------------------------------------------------ quizzes

    def quiz_home(self, user: User) -> Reply:
        """/quiz: choose a topic and a length."""
        self._touch(user)
        return self.quizzes.home(user)

    def leaderboard(self, user: User, mode: str = "send") -> Reply:
        """/bangxephang: units and colleagues; inspectors and admins see every province."""
        self._touch(user)
        return self.quizzes.leaderboard(user, see_all=self.role_of(user) in ("inspector", "admin"), mode=mode)

    def poll_answer(self, user: User, poll_id: str, option_ids: list[int]) -> Reply | None:
        """A vote on a native quiz poll; None for polls we do not know (nothing to say)."""
        target = self.storage.poll_target(poll_id) if self.storage else None
        if target is None or not option_ids:
            return None
        self._touch(user)
        return self.quizzes.answer(user, target["session_id"], target["idx"], option_ids[0])

    def daily_menu(self, user: User) -> Reply:
        """/hangngay: pick the time of the daily question, or switch it off."""
        self._touch(user)
        times = ["07:00", "11:30", "16:30", "20:00"]
        rows = [[Button(t, f"qd:{t.replace(':', '')}") for t in times], [Button(self.kb.text("daily_btn_off"), "qd:off")]]
        return Reply(buttons=rows).add(self.kb.text("daily_prompt"))

    def daily_question(self, user: User) -> Reply | None:
        """The one-question quiz sent by the daily job (due reviews first)."""
        return self.quizzes.start(user, "mix", "5", single=True) if self.kb.quizzes else None

    def _press_qh(self, user: User) -> Reply:
        return self.quizzes.home(user, mode="edit")

    def _press_qt(self, user: User, topic: str) -> Reply | None:
        return self.quizzes.choose_length(user, topic)

    def _press_ql(self, user: User, topic: str, length: str) -> Reply | None:
        return self.quizzes.start(user, topic, length)

    def _press_qa(self, user: User, session_id: str, idx: str, option: str) -> Reply | None:
        if not (session_id.isdigit() and idx.isdigit() and option.isdigit()):
            return None
        return self.quizzes.answer(user, int(session_id), int(idx), int(option))

    def _press_qb(self, user: User) -> Reply:
        return self.leaderboard(user, mode="edit")

    def _press_qd(self, user: User, value: str) -> Reply | None:
        if value == "off":
            self.storage.set_daily(user.id, None)
            if self.scheduler:
                self.scheduler.daily(user.id, None)
            return Reply(mode="edit").add(self.kb.text("daily_off"))
        if len(value) != 4 or not value.isdigit() or int(value[:2]) > 23 or int(value[2:]) > 59:
            return None
        hhmm = f"{value[:2]}:{value[2:]}"
        self.storage.set_daily(user.id, hhmm)
        if self.scheduler:
            self.scheduler.daily(user.id, hhmm)
        return Reply(mode="edit").add(self.kb.text("daily_on", time=hhmm))

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
                         buttons=self._link_rows(entry))
        toast = self.kb.text("feedback_thanks_up" if vote == "u" else "feedback_thanks_down")
        return Reply(mode="markup", toast=toast, buttons=self._link_rows(entry))

    def _link_rows(self, entry: Entry, shown: set[str] = frozenset()) -> list[list[Button]]:
        """Related questions (less those ``shown`` as alternatives already), the guide that covers the
        entry, the form it offers as a .docx, then Topics / Menu (no feedback row)."""
        rows = [[Button("🔗 " + short(self.kb.entries[r].title), f"e:{r}")]
                for r in entry.related[:MAX_RELATED] if r in self.kb.entries and r not in shown]
        rows += self._guide_rows(entry)
        rows += [[Button(short(self.kb.text("form_button", name=f.name), 60), f"fm:{f.id}")]
                 for f in self.kb.forms.values() if entry.id in f.entries][:1]
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
            user.id, channel, text[:2000], result.folded, result.outcome,
            best.entry.id if best else None, best.score if best else None,
        )

    # ------------------------------------------------------------------ machine-readable answer

    def answer_json(self, question: str) -> dict:
        """The stable JSON shape of ``isobot ask --json``."""
        small = self.smalltalk(question or "")
        shortcut = None if small else self.shortcut(question or "")
        if small or shortcut:
            answer = self.kb.text(small) if small else self._open(User(0), shortcut).text
            return {"matched": False, "entry_id": None, "title": None, "answer": answer, "score": 0.0,
                    "sources": [], "suggestions": []}
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
    from bot.cache import load_indexed
    from bot.storage import Storage  # sqlite-utils is only imported where a database is used

    kb, searcher = load_indexed(config)
    storage = Storage(config.database) if with_storage else None
    return Core(kb, searcher, storage, timezone=config.timezone, province=config.province,
                admin_ids=config.admin_ids)
