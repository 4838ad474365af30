"""What the knowledge base holds: every kind of content as a frozen dataclass, and ``KnowledgeBase``,
which holds them all, typed.

This is the middle floor. It builds only on the ground floor (bot.yamlcheck: YAML and its checks)
and on bot.text, so any module, the loaders and the features alike, can import the content types
without importing each other; bot.loader, the top floor, reads knowledge/ into these classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.text import CLAUSE_NUMBER
from bot.yamlcheck import LINE_KEY, Checker, line_of

MAX_ANSWER_CHARS = 900
# The kinds of question an entry can declare it answers (``facets:``); search prefers an entry whose
# facet is the one asked ("bao lâu một lần" → frequency) over a broader one on the same topic.
FACETS = (
    "overview",
    "which-clause",
    "what-requires",
    "mandatory",
    "frequency",
    "deadline",
    "duration",
    "order",
    "who",
    "records",
    "evidence",
    "difference",
    "how-to",
    "what-if",
    "definition",
    "legal",
)
MAX_TITLE_CHARS = 80
STANDARD_ID = "tcvn-9001"  # answers that say "khoản 9.2.3" mean this standard unless they cite 19011


# ---------------------------------------------------------------- entries and what they cite


@dataclass(frozen=True)
class Document:
    """A document that answers may cite (standard, legal text or practice)."""

    id: str
    cite: str
    title: str
    kind: str
    verified: str
    note: str = ""
    clauses: frozenset[str] = frozenset()  # when listed, the only clause numbers a citation may name


@dataclass(frozen=True)
class Source:
    """A citation: a document plus an optional clause/article reference."""

    doc: Document
    ref: str = ""

    def __str__(self) -> str:
        if not self.ref:
            return self.doc.cite
        return f"{self.ref[:1].upper()}{self.ref[1:]}, {self.doc.cite}"


@dataclass(frozen=True)
class Entry:
    """One question-and-answer entry."""

    id: str
    topic: str
    title: str
    questions: tuple[str, ...]
    answer: str
    sources: tuple[Source, ...]
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    file: str = ""
    line: int = 0
    clause: str = ""  # the clause of TCVN ISO 9001:2015 the entry answers for (bot.atlas)
    facets: tuple[str, ...] = ()  # the kinds of question it answers: which-clause, frequency, who…
    defines: tuple[str, ...] = ()  # a vocabulary record: the names of the term it defines (bot.atlas)


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    group: str


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class GlossaryTerm:
    """An abbreviation or synonym group; search rewrites every variant to ``expansion``."""

    term: str
    expansion: str
    variants: tuple[str, ...] = ()
    note: str = ""
    generic: bool = False


@dataclass(frozen=True)
class OutOfScope:
    """A kind of question the bot must decline, with example phrasings."""

    id: str
    title: str
    examples: tuple[str, ...]


# ---------------------------------------------------------------- forms (bot.forms)


@dataclass(frozen=True)
class FormSection:
    heading: str
    paragraphs: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Form:
    id: str
    name: str
    title: str
    subtitle: str
    sections: tuple[FormSection, ...]
    signatures: tuple[str, ...]
    sources: tuple[Source, ...]
    entries: tuple[str, ...] = ()  # answers that offer this form as a download


# ---------------------------------------------------------------- guides (bot.guides)


@dataclass(frozen=True)
class Step:
    title: str
    do: str
    who: str
    record: str
    tip: str
    mistake: str
    entries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guide:
    id: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    sources: tuple[Source, ...]
    forms: tuple[str, ...]
    entries: tuple[str, ...]


# ---------------------------------------------------------------- the yearly calendar (bot.yearly)


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    kind: str
    start: tuple[int, int] | None  # (month, day)
    end: tuple[int, int] | None
    note: str
    guide: str
    sources: tuple[Source, ...]
    quarterly: bool = False


# ---------------------------------------------------------------- checklists (bot.checklists)


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    question: str
    why: str
    evidence: str
    weight: int
    action: str
    sources: tuple[Source, ...]
    entries: tuple[str, ...] = ()
    guide: str = ""


@dataclass(frozen=True)
class Checklist:
    id: str
    title: str
    description: str
    sections: tuple[tuple[str, str], ...]  # (section id, title)
    items: tuple[Item, ...]

    def section_title(self, section_id: str) -> str:
        return dict(self.sections).get(section_id, section_id)


# ---------------------------------------------------------------- quizzes (bot.quizzes)


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    question: str
    options: tuple[str, ...]
    answer: int
    difficulty: int
    explanation: str
    entry: str


# ---------------------------------------------------------------- the clause atlas (bot.atlas)


@dataclass(frozen=True)
class Clause:
    """One clause of TCVN ISO 9001:2015 as the atlas describes it."""

    number: str
    title: str
    requires: str
    maintain: tuple[str, ...] = ()  # documented information to maintain (documents)
    retain: tuple[str, ...] = ()  # documented information to retain (records, evidence)
    commune: str = ""
    evidence: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    not_applicable: str = ""  # when and how a unit may declare it not applicable
    entry: str = ""  # the entry that answers "what does this clause require"
    entries: tuple[str, ...] = ()
    guides: tuple[str, ...] = ()
    checklist_items: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # what officials call it, for "X là điều khoản nào?"
    untitled: bool = False  # the standard gives it no title: ``title`` is our summary

    @property
    def slug(self) -> str:
        return "dk-" + self.number.replace(".", "-")

    @property
    def parent(self) -> str:
        return self.number.rsplit(".", 1)[0] if "." in self.number else ""


@dataclass(frozen=True)
class Term:
    """A term of TCVN ISO 9000:2015 or 19011:2018, in our own words."""

    id: str
    term: str
    doc: str
    definition: str
    example: str = ""
    aliases: tuple[str, ...] = ()
    contrasts: tuple[tuple[str, str], ...] = ()  # (other term id, how they differ)


@dataclass
class Atlas:
    clauses: dict[str, Clause] = field(default_factory=dict)
    terms: dict[str, Term] = field(default_factory=dict)
    # terms read, entries not made yet: (term, its sources, file, line)
    pending: list[tuple[Term, tuple[Source, ...], str, int]] = field(default_factory=list)

    def children(self, number: str) -> list[Clause]:
        depth = number.count(".") + 1
        return [c for n, c in self.clauses.items() if n.startswith(number + ".") and n.count(".") == depth]


# ---------------------------------------------------------------- the readiness pack (bot.readiness)


@dataclass(frozen=True)
class Point:
    id: str
    title: str
    checks: str
    sources: tuple[Source, ...]
    items: tuple[str, ...]  # "checklist/item"


# ---------------------------------------------------------------- all of it


@dataclass
class KnowledgeBase:
    """The read-only knowledge base, loaded once."""

    root: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    glossary: list[GlossaryTerm] = field(default_factory=list)
    ui: dict[str, str] = field(default_factory=dict)
    out_of_scope: list[OutOfScope] = field(default_factory=list)
    guides: dict[str, Guide] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    calendar: list[Event] = field(default_factory=list)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    quizzes: dict[str, Question] = field(default_factory=dict)
    atlas: Atlas | None = None  # None when there is no knowledge/standard/
    readiness: list[Point] = field(default_factory=list)
    facet_cues: dict[str, re.Pattern[str]] = field(default_factory=dict)  # facet → cue (facets.yaml)

    def entries_in_topic(self, topic_id: str) -> list[Entry]:
        """Entries of one topic, in file order."""
        return [e for e in self.entries.values() if e.topic == topic_id]

    def text(self, key: str, **values: object) -> str:
        """A UI sentence from ui.yaml with ``{placeholders}`` filled in."""
        template = self.ui.get(key, key)
        return template.format(**values) if values else template


# ---------------------------------------------------------------- checks every kind of content shares


def sources_of(ck: Checker, kb: KnowledgeBase, raw: dict, file: str, where: str) -> tuple[Source, ...]:
    """The `sources:` list of a mapping, each doc checked against documents.yaml."""
    out = []
    raw_sources = raw.get("sources")
    if raw_sources is None:
        return ()
    if not isinstance(raw_sources, list):
        ck.add(file, line_of(raw, "sources"), f"{where}'sources' phải là danh sách")
        return ()
    for s in raw_sources:
        if not isinstance(s, dict):
            ck.add(file, line_of(raw, "sources"), f"{where}mỗi nguồn phải có dạng {{doc: ..., ref: ...}}")
            continue
        doc_id = ck.string(s, "doc", file, where=where + "nguồn: ")
        if doc_id and doc_id not in kb.documents:
            ck.add(file, s[LINE_KEY], f"{where}nguồn '{doc_id}' không có trong documents.yaml")
        elif doc_id:
            doc, ref = kb.documents[doc_id], ck.string(s, "ref", file, required=False)
            for clause in unknown_clauses(doc, ref):
                ck.add(file, s[LINE_KEY], f"{where}{doc.cite} không có khoản/điều {clause}")
            out.append(Source(doc, ref))
    return tuple(out)


CLAUSE_REF = re.compile(rf"{CLAUSE_NUMBER}|(?:điều|Điều)\s+(\d{{1,2}})(?!\d|\.\d)")  # "8.5.1", "Điều 4"


def unknown_clauses(doc: Document, text: str) -> list[str]:
    """Clause numbers ("9.2.3", "Điều 11") that ``text`` names but ``doc`` does not have, when
    documents.yaml lists the document's clauses: a wrong clause number is the worst content bug."""
    if not doc.clauses:
        return []
    named = [a or b for a, b in CLAUSE_REF.findall(text)]
    return [c for c in dict.fromkeys(named) if c not in doc.clauses]


def facets_of(kb: KnowledgeBase, folded: str) -> frozenset[str]:
    """The facets whose cue a folded text matches."""
    return frozenset(name for name, cue in kb.facet_cues.items() if cue.search(folded))
