"""The conversation, independent of any chat network: a dispatcher over the features.

Every front-end (Telegram, Zalo, the terminal) turns an update into one of four calls, and renders
the :class:`~bot.reply.Reply` it gets back:

- :meth:`Core.command` for ``/name arg``;
- :meth:`Core.press` for a button (Telegram's callback data; on Zalo and in the terminal the
  numbered option the user typed, see :mod:`bot.textui`);
- :meth:`Core.text` for anything typed: the answer to a pending prompt, or else a question;
- :meth:`Core.poll_answer` and :meth:`Core.non_text` for quiz polls and stickers/photos.

Actions, commands and prompts are declared by the features (:mod:`bot.actions`); here they are only
looked up. Anything unknown, stale or forged gets a polite reply, never an exception.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.actions import Context, Feature, Registry
from bot.answers import Answers
from bot.atlas import Clauses
from bot.checklists import ChecklistPrompt, Checklists
from bot.config import Config
from bot.followups import Followups
from bot.forms import Forms
from bot.guides import Guides
from bot.home import Home, is_cancel
from bot.knowledge import KnowledgeBase
from bot.members import Members
from bot.menus import ButtonMenus
from bot.notices import Notices
from bot.profile import Profile
from bot.progress import Progress
from bot.quizzes import Quizzes, TeamQuizzes
from bot.readiness import Readiness
from bot.reminders import Reminders
from bot.reply import Reply, Upload, User
from bot.roles import Roles
from bot.search import Searcher, SearchResult
from bot.text import fold
from bot.topics import Topics
from bot.yearly import Calendar

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

WEAK_ANSWER_POINTS = 10  # mid-checklist, an answer this close to the threshold also offers "save as note"
SHORTCUT_MAX_CHARS = 40  # a menu item's name with a few polite words; anything longer is a question
COMMAND = re.compile(r"^\s*/([A-Za-z][A-Za-z0-9_]{0,31})(?:@\w+)?(?:\s+(.*))?$", re.S)  # "/tiendo", "/lambai 1"


@dataclass
class _Wired:
    """The features, built once and wired to each other; the Core keeps a few by name."""

    home: Home
    answers: Answers
    checklists: Checklists
    quizzes: Quizzes
    reminders: Reminders
    followups: Followups
    notices: Notices
    progress: Progress
    features: list[Feature]


def _wire(ctx: Context) -> _Wired:
    """Every feature in the order commands are listed and buttons resolved. A new capability is one
    line here (and its module); its screens, actions and prompts stay in that module."""
    home, answers, checklists, quizzes, reminders = (
        Home(ctx),
        Answers(ctx),
        Checklists(ctx),
        Quizzes(ctx),
        Reminders(ctx),
    )
    members, guides, team = Members(ctx), Guides(ctx), TeamQuizzes(ctx, quizzes)
    followups = Followups(ctx, sections=(team.my_work, checklists.my_work, guides.my_work, reminders.my_work))
    readiness, notices = Readiness(ctx), Notices(ctx, resume=checklists.offer_resume)
    progress = Progress(ctx, checklists, readiness)
    features: list[Feature] = [
        home,
        ctx.roles,
        Topics(ctx),
        answers,
        members,
        Profile(ctx, answers, members),
        Clauses(ctx),
        guides,
        Forms(ctx),
        Calendar(ctx),
        checklists,
        followups,
        readiness,
        quizzes,
        team,
        reminders,
        notices,
        progress,
    ]
    return _Wired(home, answers, checklists, quizzes, reminders, followups, notices, progress, features)


class Core:
    """The bot's behaviour: every front-end calls these methods."""

    def __init__(
        self,
        kb: KnowledgeBase,
        searcher: Searcher,
        storage: Storage | None = None,
        *,
        timezone: str = "Asia/Ho_Chi_Minh",
        today=None,
        now=None,
        province: str = "",
        admin_ids=frozenset(),
    ):
        tz = ZoneInfo(timezone)
        self.ctx = ctx = Context(
            kb,
            searcher,
            storage,
            tz,
            today=today if callable(today) else (lambda: datetime.now(tz).date()),
            now=now if callable(now) else (lambda: datetime.now(tz)),
            province_name=province,
        )
        ctx.roles = Roles(ctx, admin_ids)
        wired = _wire(ctx)
        self.home, self.answers, self.checklists = wired.home, wired.answers, wired.checklists
        self.quizzes, self.reminders, self.followups = wired.quizzes, wired.reminders, wired.followups
        self.notices, self.progress = wired.notices, wired.progress
        features = wired.features
        self.registry = Registry(features)
        self.home.commands = self.registry.order
        self.home.stop_flow = self._stop_flow
        self.home.resume_button = self.checklists.resume_button
        ctx.passive_prompts = frozenset(k for k, (spec, _) in self.registry.prompts.items() if spec.passive)
        self.menus = ButtonMenus(ctx, self.press, in_flow=self.in_flow)

    @property
    def kb(self) -> KnowledgeBase:
        return self.ctx.kb

    @property
    def storage(self) -> Storage:
        """The database, for callers that run with one (every channel does). As in a Feature, code that
        also runs without one (``isobot ask``) checks ``ctx.storage``, which is None there."""
        assert self.ctx.storage is not None, "this needs the database"
        return self.ctx.storage

    @property
    def scheduler(self):
        return self.ctx.scheduler

    @scheduler.setter
    def scheduler(self, value) -> None:
        self.ctx.scheduler = value

    def today(self):
        return self.ctx.today()

    def now(self):
        return self.ctx.now()

    @contextmanager
    def atomic(self):
        """One write transaction for everything one update does (who wrote, the question's log, the
        answer shown, the screen): front-ends wrap each update in it."""
        if self.ctx.storage is None:
            yield
            return
        with self.ctx.storage.transaction():
            yield

    def identify(self, channel: str, account: str, first_name: str = "", username: str = "") -> User:
        """The user behind a channel account (created on first contact; their last activity is recorded)."""
        account = str(account)
        storage = self.ctx.storage
        person = storage.touch_account(channel, account, first_name, username) if storage else 0
        return User(person, first_name or "", username or "", channel, account)

    def user(self, user_id: int) -> User | None:
        """The person ``user_id`` as reached on their current channel (for messages the bot starts)."""
        storage = self.ctx.storage
        contact = storage.contact(user_id) if storage else None
        row = storage.get_user(user_id) if storage and contact else None
        return (
            User(user_id, row.get("first_name") or "", row.get("username") or "", *contact) if row and contact else None
        )

    # ------------------------------------------------------------------ the four entry points

    def command(self, user: User, name: str, arg: str = "") -> Reply:
        """``/name arg``; an unknown command gets guidance, one the user may not use a refusal."""
        found = self.registry.commands.get(name.lower().lstrip("/"))
        if found is None:
            # "/bangkiem", "/tracnghiem": a menu item's name typed as a command opens it
            bare = name.lstrip("/")
            alias = self.shortcut(bare) or self._menu_command(fold(bare).replace(" ", ""), compact=True)
            if alias:  # a registered command's name: the call below finds it
                return self.command(user, alias, arg)
            return self.home.unknown_command(user, "/" + name.lstrip("/"))
        spec, handler = found
        if spec.needs_db and not self.ctx.storage:
            return self.home.menu(user)
        if spec.role:
            denied = self.ctx.roles.require(user, spec.role, "/" + spec.names[0])
            if denied:
                return denied
        if self.ctx.storage and not spec.keeps_prompt:
            self.ctx.storage.clear_prompt(user.id)  # the user moved on: "/toi" is not a unit name
        return handler(user, arg)

    def press(self, user: User, data: str | None) -> Reply:
        """A button. Unknown, stale or forged data gets the 'stale button' reply."""
        found = self.registry.resolve(data)
        if found is None or (found[0].needs_db and not self.ctx.storage):
            log.info("stale or forged button from %s: %r", user.key, data)
            return self.home.stale(user)
        spec, handler, values = found
        if spec.role:
            denied = self.ctx.roles.require(user, spec.role, spec.name)
            if denied:
                return denied
        reply = handler(user, *values)
        if reply is None:
            log.info("stale button from %s: %r", user.key, data)
            return self.home.stale(user)
        return reply

    def text(self, user: User, text: str, channel: str | None = None) -> Reply:
        """Free text: the answer to a pending prompt (unit name, checklist note, reminder text) or else
        a question; a menu item's name opens it, small talk gets a friendly word."""
        command = COMMAND.match(text)
        if command:  # "/xyz" typed on a channel without commands of its own
            return self.command(user, command.group(1), (command.group(2) or "").strip())
        picked = None if user.texts_only else self.menus.pick(user, text)
        if picked is not None:  # "2" typed below Telegram buttons: the second button
            return picked
        folded = fold(text)
        storage = self.ctx.storage
        pending = storage.get_prompt(user.id) if storage else None
        if pending and pending[0] != ChecklistPrompt.DRAFT and is_cancel(self.kb, folded):
            return self.home.cancel(user)
        if pending and storage:
            found = self.registry.prompts.get(pending[0])
            if found:
                spec, handler = found
                denied = self.ctx.roles.require(user, spec.role, str(spec.value)) if spec.role else None
                reply = denied or handler(user, pending[1], text)
                if reply is not None:
                    return reply
            storage.clear_prompt(user.id)
        if storage:
            for feature in self._flows(user):
                reply = feature.intercept(user, folded)
                if reply is not None:
                    return reply
            if is_cancel(self.kb, folded):  # "huỷ" typed with nothing in progress is no question
                return self.home.cancel(user)
        small = self.home.smalltalk(folded)
        if small:
            return self.home.smalltalk_reply(user, small)
        shortcut = self.shortcut(text)
        if shortcut:
            return self.command(user, shortcut)
        reply, result = self.answers.ask(user, text, channel or user.channel)
        if result and storage:
            if len(text.split()) >= 2 and (self._unsure(result) or not self.checklists.reads_as_question(text)):
                self.checklists.offer_note(user, text, reply)  # typed mid-checklist: it may be a note
            self.checklists.offer_resume(user, reply)
        return reply

    def shown(self, user: User, reply: Reply) -> None:
        """``reply`` went out on a channel with buttons: its buttons are the chat's last menu, which a
        number typed next picks from."""
        if not user.texts_only:
            self.menus.remember(user, reply)

    def poll_answer(self, user: User, poll_id: str, option_ids: list[int]) -> Reply | None:
        """A vote on a Telegram quiz poll; None for polls we do not know (nothing to say)."""
        return self.quizzes.poll_answer(user, poll_id, option_ids) if self.ctx.storage else None

    def non_text(self, user: User, caption: str = "", upload: Upload | None = None) -> Reply:
        """A sticker, photo, voice or file. A photo or file the bot is waiting for (the evidence of a
        finished task) goes to that prompt; otherwise a caption is the question."""
        storage = self.ctx.storage
        pending = storage.get_prompt(user.id) if storage and upload else None
        found = self.registry.prompts.get(pending[0]) if pending else None
        if pending and found and found[0].uploads:
            reply = found[1](user, pending[1], caption, upload=upload)
            if reply is not None:
                return reply
        if caption.strip():
            return self.text(user, caption).prepend(self.kb.text("caption_only"))
        return self.home.non_text(user)

    # ------------------------------------------------------------------ helpers

    def _flows(self, user: User) -> list:
        """The features whose words ("huỷ", "đạt", "b") typed text may be: the quiz first when it was
        answered after the checklist (or no checklist is current), else the checklist first."""
        quiz = self.quizzes.current(user)
        run = self.checklists.current_run(user) if quiz else None
        if quiz and (run is None or quiz[1] >= run["touched"]):
            return [self.quizzes, self.checklists]
        return [self.checklists, self.quizzes]

    def in_flow(self, user: User) -> bool:
        """A checklist or a quiz is in progress (then a message beside it keeps the flow's numbers)."""
        return self.ctx.storage is not None and bool(self.checklists.current_run(user) or self.quizzes.current(user))

    def _stop_flow(self, user: User) -> Reply | None:
        """/huy with no prompt pending: stop the quiz or pause the checklist the user is in."""
        for feature in self._flows(user):
            if feature is self.quizzes:
                reply = self.quizzes.stop(user)
            else:
                run = self.checklists.current_run(user)
                reply = self.checklists.pause(user, run["id"]) if run else None
            if reply is not None:
                reply.mode = "send"
                return reply
        return None

    def _unsure(self, result: SearchResult) -> bool:
        """Declined, suggestions only, or answered with a score close to the threshold."""
        if result.outcome == "answer" and result.best is not None:
            return result.best.score < self.ctx.searcher.config.answer_threshold + WEAK_ANSWER_POINTS
        return result.outcome in ("suggest", "decline")

    def shortcut(self, text: str) -> str | None:
        """'tự đánh giá', 'cho em xem lịch'…: the command a short message names (ui.yaml), or None."""
        folded = fold(text)
        if len(folded) > SHORTCUT_MAX_CHARS:
            return None
        return self._menu_command(re.sub(self.kb.text("shortcut_fillers"), "", folded).strip())

    def _menu_command(self, name: str, compact: bool = False) -> str | None:
        """The command whose menu name (ui.yaml ``shortcut_patterns_*``) is the folded ``name``; with
        ``compact``, the names are matched written without spaces ("bangkiem" → tudanhgia)."""
        for cmd in self.registry.shortcuts():
            pattern = self.kb.text(f"shortcut_patterns_{cmd.shortcut}")
            if name and re.fullmatch(pattern.replace(" ", "") if compact else pattern, name):
                return cmd.names[0]
        return None

    def daily_question(self, user: User) -> Reply | None:
        return self.quizzes.daily_question(user)

    def answer_json(self, question: str) -> dict:
        """The stable JSON shape of ``isobot ask --json``."""
        folded = fold(question or "")
        small = self.home.smalltalk(folded)
        shortcut = None if small else self.shortcut(question or "")
        if small:
            return _unmatched_json(self.kb.text(small))
        if shortcut:
            return _unmatched_json(self.command(User(0, channel="cli"), shortcut).text)
        return self.answers.as_json(question)

    def ask(self, user: User, text: str, channel: str = "cli") -> Reply:
        """A question as ``isobot ask`` sends it: small talk and menu names included."""
        return self.text(user, text, channel)


def _unmatched_json(answer: str) -> dict:
    """``isobot ask --json`` for a message that is no question (small talk, a menu item's name)."""
    return {
        "matched": False,
        "entry_id": None,
        "title": None,
        "answer": answer,
        "score": 0.0,
        "sources": [],
        "suggestions": [],
    }


def build_core(config: Config, *, with_storage: bool = True) -> Core:
    """Load the knowledge base once, index it, open the database: the one way every front-end starts."""
    from bot.cache import load_indexed

    kb, searcher = load_indexed(config)
    storage = None
    if with_storage:
        from bot.storage import Storage  # sqlite-utils is only imported where a database is used

        storage = Storage(config.database)
    return Core(kb, searcher, storage, timezone=config.timezone, province=config.province, admin_ids=config.admin_ids)
