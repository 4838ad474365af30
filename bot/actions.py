"""Actions, commands and prompts: what a feature offers, declared once where the feature lives.

An :class:`Action` is one kind of button. It has a short code, typed fields, the role it needs and
whether it needs the database; ``ACTION.button(label, *values)`` builds the button (checking every
value against its field), and the dispatcher parses what comes back with the same fields. Telegram
sends ``code:value:value`` as callback data; Zalo and the terminal show the same action as a
numbered option. A method of a :class:`Feature` handles an action when decorated with it::

    ANSWER = Action("ca", Id("run"), Index("item"), Choice("answer", "d", "p", "c", "n", "s"))

    class Checklists(Feature):
        @ANSWER
        def answer(self, user: User, run: int, item: int, answer: str) -> Reply | None: ...

A handler that returns None says "this button no longer means anything" (a finished run, a form
that was removed): the user gets the polite stale-button reply. Commands (:class:`Command`) and the
prompts a feature waits on (:func:`prompt`, a ``StrEnum`` value) are declared the same way, and
:class:`Registry` collects all three from the features so the dispatcher is a lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.reply import Button, Reply, User

if TYPE_CHECKING:
    from bot.knowledge import KnowledgeBase
    from bot.search import Searcher
    from bot.storage import Storage
    from bot.units import Place

MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
ROLES = ("inspector", "admin")

# One strict pattern per kind of value. A database id is what SQLite stores as a 64-bit integer:
# no "²" (str.isdigit() accepts it), no leading zero, at most 18 digits.
ID = r"[1-9][0-9]{0,17}"
INDEX = r"0|[1-9][0-9]{0,3}"
SLUG = r"[a-z0-9][a-z0-9-]{1,47}"  # ids of knowledge/ content (bot.knowledge.ID_RE)


@dataclass(frozen=True)
class Field:
    """One typed value of an action."""

    name: str
    pattern: str
    kind: type = str

    def parse(self, raw: str) -> Any:
        """The value, or None when ``raw`` is not of this field's form."""
        if not re.fullmatch(self.pattern, raw):
            return None
        return self.kind(raw)

    def format(self, value: object) -> str:
        raw = str(value)
        if not re.fullmatch(self.pattern, raw):
            raise ValueError(f"{self.name}={value!r} does not match /{self.pattern}/")
        return raw


def Id(name: str) -> Field:  # noqa: N802 - reads like a type in declarations
    """A database id (a run, a reminder, a quiz session)."""
    return Field(name, ID, int)


def Index(name: str) -> Field:  # noqa: N802
    """A position: a step, an item, a page, an option."""
    return Field(name, INDEX, int)


def Slug(name: str) -> Field:  # noqa: N802
    """The id of a content item: entry, topic, guide, form, checklist."""
    return Field(name, SLUG)


def Choice(name: str, *values: str) -> Field:  # noqa: N802
    """One of a fixed set of words."""
    return Field(name, "|".join(re.escape(v) for v in values))


class Action:
    """One kind of button; calling it on a feature method marks that method as its handler."""

    def __init__(self, code: str, *fields: Field, role: str | None = None, needs_db: bool = True, name: str = ""):
        assert re.fullmatch(r"[a-z]{1,3}", code), code
        assert role in (None, *ROLES), role
        self.code = code
        self.fields = fields
        self.role = role
        self.needs_db = needs_db
        self.name = name or code

    def data(self, *values: object) -> str:
        """The callback data for these values (a programming error raises ValueError)."""
        if len(values) != len(self.fields):
            raise ValueError(f"action {self.code} takes {len(self.fields)} values, got {len(values)}")
        data = ":".join([self.code, *(f.format(v) for f, v in zip(self.fields, values, strict=True))])
        if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    def button(self, label: str, *values: object) -> Button:
        return Button(label, self.data(*values))

    def parse(self, args: list[str]) -> tuple | None:
        """Typed values from the parts after the code, or None when anything is off."""
        if len(args) != len(self.fields):
            return None
        values = tuple(f.parse(a) for f, a in zip(self.fields, args, strict=True))
        return None if any(v is None for v in values) else values

    def __call__(self, method: Callable) -> Callable:
        method.__action__ = self  # type: ignore[attr-defined]
        return method

    def __repr__(self) -> str:
        return f"Action({self.code!r}, {', '.join(f.name for f in self.fields)})"


@dataclass(frozen=True)
class Command:
    """A slash command. ``shortcut`` names the ui.yaml pattern (``shortcut_patterns_<name>``) of the
    words that open it when typed without the slash ("tự đánh giá"); ``advertised`` commands are
    listed in Telegram's menu with the description ``cmd_<first name>`` from ui.yaml. A command ends
    any prompt the user left open (they moved on), except one that ``keeps_prompt`` (/huy reads it)."""

    names: tuple[str, ...]
    role: str | None = None
    needs_db: bool = False
    advertised: bool = True
    shortcut: str = ""
    keeps_prompt: bool = False

    def __call__(self, method: Callable) -> Callable:
        method.__command__ = self  # type: ignore[attr-defined]
        return method


def command(
    *names: str,
    role: str | None = None,
    needs_db: bool = False,
    advertised: bool = True,
    shortcut: str = "",
    keeps_prompt: bool = False,
) -> Command:
    """Decorator: the method ``(self, user, arg) -> Reply`` answers /name (and its aliases)."""
    return Command(names, role, needs_db, advertised, shortcut, keeps_prompt)


@dataclass(frozen=True)
class PromptSpec:
    value: StrEnum
    role: str | None
    uploads: bool = False
    passive: bool = False


def prompt(
    value: StrEnum, role: str | None = None, uploads: bool = False, passive: bool = False
) -> Callable[[Callable], Callable]:
    """Decorator: the method ``(self, user, data: dict, text: str) -> Reply`` answers text typed while
    the bot waits on ``value`` (a unit name, a note, a reminder text). The wait and its data are
    kept in SQLite (``Storage.set_prompt``), so a restart resumes it. With ``uploads`` it also takes
    a photo or file (``upload=`` a :class:`~bot.reply.Upload`, ``text`` its caption). A ``passive``
    prompt only reads a few words of its own (a late quiz letter, a clause number) and asks nothing:
    /huy passes over it to the quiz or checklist in progress."""

    def mark(method: Callable) -> Callable:
        method.__prompt__ = PromptSpec(value, role, uploads, passive)  # type: ignore[attr-defined]
        return method

    return mark


@dataclass
class Context:
    """What every feature shares: content, search, the database, the clock, roles, the scheduler."""

    kb: KnowledgeBase
    searcher: Searcher
    storage: Storage | None
    tz: ZoneInfo
    today: Callable[[], date]
    now: Callable[[], datetime]
    province_name: str = ""  # the configured province, as typed in config.yaml
    roles: Any = None  # bot.roles.Roles, set by the Core
    scheduler: Any = None  # set by a front-end that runs timed jobs (handlers.scheduler)
    passive_prompts: frozenset[str] = frozenset()  # the prompts declared passive, set by the Core

    @cached_property
    def province(self) -> Place | None:
        """The configured province, looked up in the official list of units when first needed: a
        question (`isobot ask`) never needs it, and loading the list is a good part of a cold start."""
        from bot import units

        return units.find_province(self.province_name) if self.province_name else None


class Feature:
    """One capability of the bot: its screens, and the actions, commands and prompts it answers."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    @property
    def kb(self) -> KnowledgeBase:
        return self.ctx.kb

    @property
    def storage(self) -> Storage:
        assert self.ctx.storage is not None, "this screen needs the database"
        return self.ctx.storage

    def text(self, key: str, **values: object) -> str:
        """A sentence from ui.yaml."""
        return self.ctx.kb.text(key, **values)

    def say(self, user: User, key: str, **values: object) -> str:
        """A sentence from ui.yaml in the wording for the user's channel: ``<key>__text`` on Zalo and
        the terminal when ui.yaml has it ("type the letter" instead of "tap the poll")."""
        if user.texts_only and f"{key}__text" in self.ctx.kb.ui:
            key = f"{key}__text"
        return self.ctx.kb.text(key, **values)

    def wait_passively(self, user: User, value: StrEnum, data: dict | None = None) -> None:
        """Set a passive prompt (see :func:`prompt`), unless a prompt that asks for something is pending:
        a note or a unit name being typed is never dropped for it."""
        storage = self.ctx.storage
        pending = storage.get_prompt(user.id) if storage else None
        if storage and (pending is None or pending[0] in self.ctx.passive_prompts):
            storage.set_prompt(user.id, value, data)

    def reply(self, text: str = "", *, buttons: list[list[Button]] | None = None, mode: str = "send") -> Reply:
        r = Reply(buttons=buttons or [], mode=mode)
        return r.add(text) if text else r


Handler = Callable[..., Reply | None]  # None: a stale button, a prompt that lets the text through
CommandHandler = Callable[..., Reply]  # a command always answers


class Registry:
    """Every action, command and prompt of a set of features, by code, name and value."""

    def __init__(self, features: list[Feature]):
        self.actions: dict[str, tuple[Action, Handler]] = {}
        self.commands: dict[str, tuple[Command, CommandHandler]] = {}
        self.prompts: dict[str, tuple[PromptSpec, Handler]] = {}
        self.order: list[Command] = []
        for feature in features:
            for name, fn in _methods(type(feature)):
                bound = getattr(feature, name)
                spec = getattr(fn, "__action__", None)
                if isinstance(spec, Action):
                    if spec.code in self.actions:
                        raise ValueError(f"two handlers for action {spec.code}")
                    self.actions[spec.code] = (spec, bound)
                cmd = getattr(fn, "__command__", None)
                if isinstance(cmd, Command):
                    self.order.append(cmd)
                    for n in cmd.names:
                        if n in self.commands:
                            raise ValueError(f"two handlers for command /{n}")
                        self.commands[n] = (cmd, bound)
                p = getattr(fn, "__prompt__", None)
                if isinstance(p, PromptSpec):
                    if str(p.value) in self.prompts:
                        raise ValueError(f"two handlers for prompt {p.value}")
                    self.prompts[str(p.value)] = (p, bound)

    def resolve(self, data: str | None) -> tuple[Action, Handler, tuple] | None:
        """The action, its handler and typed values of callback data; None when forged or stale."""
        if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            return None
        code, *args = data.split(":")
        found = self.actions.get(code)
        if found is None:
            return None
        values = found[0].parse(args)
        return None if values is None else (found[0], found[1], values)

    def advertised(self) -> list[str]:
        """The first name of every advertised command, in feature order (Telegram's command menu)."""
        return [c.names[0] for c in self.order if c.advertised]

    def shortcuts(self) -> list[Command]:
        return [c for c in self.order if c.shortcut]


def _methods(cls: type) -> list[tuple[str, Callable]]:
    """The functions of a class and its bases, in the order they are written (base classes first)."""
    seen: dict[str, Callable] = {}
    for klass in reversed(cls.__mro__):
        for name, fn in vars(klass).items():
            if callable(fn) and not name.startswith("__"):
                seen.pop(name, None)
                seen[name] = fn
    return list(seen.items())
