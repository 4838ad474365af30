"""What the core says back, independent of any chat network: replies, buttons, callback data."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_CALLBACK_BYTES = 64      # Telegram's limit for callback_data
MAX_LABEL_CHARS = 48         # longer button labels are cut with "…"


@dataclass(frozen=True)
class User:
    """Who is talking: a Telegram user or the terminal user."""

    id: int
    first_name: str = ""
    username: str = ""


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass
class Reply:
    """What the bot says back.

    ``parts`` are (style, text) pairs, style "" / "b" (bold) / "i" (italic), so each front-end can
    render and escape them its own way. ``mode``: "send" a new message, "edit" the message whose
    button was pressed, or "markup" to change only its buttons. ``toast`` answers a button press.
    """

    parts: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    mode: str = "send"
    toast: str | None = None
    alert: bool = False
    attachment: "Attachment | None" = None
    poll: object = None          # bot.quizzes.Poll: a quiz question to show after the text
    broadcast_id: int | None = None  # a broadcast the front-end should start sending now

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.parts)

    def add(self, text: str, style: str = "") -> "Reply":
        self.parts.append((style, text))
        return self


@dataclass(frozen=True)
class Callback:
    """A parsed button press."""

    kind: str
    args: tuple[str, ...] = ()


# kind → number of arguments. Every button the bot makes is listed here; anything else is forged.
CALLBACK_ARITY = {
    "m": 0, "h": 0, "tg": 0, "g": 1, "t": 2, "e": 1, "f": 2,        # menu, help, topics, entries, feedback
    "gh": 0, "gs": 2, "gl": 1, "gf": 1, "fl": 0, "fm": 1, "cal": 0,  # guides, forms, calendar
    "ch": 0, "co": 1, "ca": 3, "cg": 2, "cn": 2, "cp": 1, "cr": 1, "cc": 1, "cd": 1, "cw": 2,  # checklists
    "ur": 0, "us": 1, "ua": 0, "ux": 0, "pf": 0,                      # unit registration, profile
    "qh": 0, "qt": 1, "ql": 2, "qa": 3, "qb": 0, "qd": 1,            # quizzes, leaderboard, daily question
    "rl": 0, "rn": 0, "rt": 1, "rc": 1, "rs": 1, "ri": 1, "rq": 1, "rk": 0, "rx": 0,  # reminders (inspectors)
    "rp": 1, "ru": 1, "rz": 1, "re": 1, "rv": 1,
    "pg": 1, "pc": 1, "px": 1, "pv": 1,                              # unit progress (inspectors)
    "qn": 0, "qo": 1, "qy": 1, "qu": 0, "qr": 1, "qx": 1,            # team quizzes (inspectors)
}


def parse_callback(data: str | None) -> Callback | None:
    """Parse ``kind:arg:arg``; None when the data is malformed (forged or from an old version)."""
    if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    kind, *args = data.split(":")
    if CALLBACK_ARITY.get(kind) != len(args):
        return None
    return Callback(kind, tuple(args))


def short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    """Cut a button label to ``limit`` characters."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Attachment:
    """A file to send with a reply (a generated form or report)."""

    file_name: str
    data: bytes
    caption: str = ""
    kind: str = "document"   # "document" or "photo"
