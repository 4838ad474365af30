"""What the core says back, independent of any chat network: who is talking, replies, buttons."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LABEL_CHARS = 48  # longer button labels are cut with "…"
CHANNELS = ("telegram", "zalo", "cli")


@dataclass(frozen=True)
class User:
    """Who is talking: one person (``id`` is the database's person id) on one channel account.

    ``account`` is the id the channel knows the person by (a Telegram user id, a Zalo user id); a
    person who linked two accounts with /lienket has one ``id`` and two accounts.
    """

    id: int
    first_name: str = ""
    username: str = ""
    channel: str = "telegram"
    account: str = ""

    @property
    def key(self) -> str:
        """The account as config.yaml's admin_ids and /capquyen write it: ``telegram:123``, ``zalo:abc``."""
        return f"{self.channel}:{self.account or self.id}"

    @property
    def texts_only(self) -> bool:
        """True on channels without buttons, polls or files (Zalo, the terminal)."""
        return self.channel != "telegram"


@dataclass(frozen=True)
class Button:
    """A choice under a reply: Telegram shows a button, Zalo and the terminal a numbered option.

    ``key`` is the number that stands for it where its place in the list would mislead (clause "4"
    of the standard is option 4, wherever it is listed); ``listed`` is its label after that number on
    channels without buttons ("4. Bối cảnh của tổ chức" for «Điều 4: Bối cảnh của tổ chức»)."""

    label: str
    data: str
    key: str = ""
    listed: str = ""


def numbered(buttons: list[Button], first: int = 0) -> list[tuple[str, Button]]:
    """The number that stands for each button, typed or shown: its ``key``, else the next number after
    ``first`` that no key takes, in order. With ``first`` (options after a checklist's), keys are
    not used."""
    keys = {b.key for b in buttons if b.key} if not first else set()
    out, n = [], first
    for b in buttons:
        if b.key and not first:
            out.append((b.key, b))
            continue
        n += 1
        while str(n) in keys:
            n += 1
        out.append((str(n), b))
    return out


@dataclass(frozen=True)
class Upload:
    """A photo or file the user sent: the channel's reference (a Telegram file_id, a Zalo photo URL),
    and its bytes when the front-end could fetch them."""

    kind: str  # "photo" | "document"
    ref: str
    name: str = ""
    data: bytes | None = None
    caption: str = ""


@dataclass
class Section:
    """A part of a screen another feature contributes (a block of "Việc của tôi")."""

    title: str
    lines: list[str] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)


@dataclass(frozen=True)
class QuizFeedback:
    """Whether the last quiz answer was right, for channels whose polls cannot show it themselves."""

    correct: bool
    right_option: str
    letter: str
    explanation: str


@dataclass(frozen=True)
class Poll:
    """A question to show: Telegram sends a quiz poll, Zalo and the terminal options A–D
    (made by bot.quizzes)."""

    session_id: int
    index: int
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str


@dataclass
class Reply:
    """What the bot says back.

    ``parts`` are (style, text) pairs, style "" / "b" (bold) / "i" (italic), so each front-end can
    render and escape them its own way. ``mode``: "send" a new message, "edit" the message whose
    button was pressed, or "markup" to change only its buttons (Telegram; the other channels always
    send). ``toast`` answers a button press. ``stale`` marks the reply to a button or number that
    no longer means anything. ``aside`` marks a message shown beside a flow (a notice, a question
    answered mid-checklist): on channels with numbered options, the numbers of the screen the user is
    on stay in force and the aside's options are numbered after them. A long aside may have a ``brief``
    (its start) and ``more`` (the option that shows it whole): a channel that keeps a flow's numbers
    shows the brief mid-flow (a notice mid-checklist on Zalo), so the flow stays on the phone's screen.
    """

    parts: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    mode: str = "send"
    toast: str | None = None
    alert: bool = False
    attachment: Attachment | None = None
    poll: Poll | None = None  # a quiz question to show after the text
    answered: QuizFeedback | None = None  # the verdict on the previous quiz question
    stale: bool = False
    aside: bool = False
    brief: str = ""
    more: Button | None = None

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.parts)

    def add(self, text: str, style: str = "") -> Reply:
        self.parts.append((style, text))
        return self

    def prepend(self, text: str, style: str = "i") -> Reply:
        """Put a short notice before the rest ("Đã lưu ghi chú.")."""
        self.parts.insert(0, (style, text + "\n\n"))
        return self


def short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    """Cut a button label to ``limit`` characters."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Attachment:
    """A file to send with a reply (a generated form, report, chart or export)."""

    file_name: str
    data: bytes
    caption: str = ""
    kind: str = "document"  # "document" or "photo"
    ref: str = ""  # a channel's own reference instead of data (a Telegram file_id)
    summary: str = ""  # what the file holds, shown where it cannot be sent (Zalo without a file endpoint)

    @property
    def mime(self) -> str:
        """The content type the file endpoint serves it with."""
        ext = self.file_name.rsplit(".", 1)[-1].lower()
        return {
            "png": "image/png",
            "jpg": "image/jpeg",
            "jpeg": "image/jpeg",
            "webp": "image/webp",
            "gif": "image/gif",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "csv": "text/csv; charset=utf-8",
        }.get(ext, "application/octet-stream")
