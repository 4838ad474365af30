"""Load and validate the YAML knowledge base (entries, topics, documents, glossary, UI text).

Every problem is reported as ``file:line: message`` so curators can fix content without reading code.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.text import CLAUSE_NUMBER, fold

MAX_ANSWER_CHARS = 900
# The kinds of question an entry can declare it answers (``facets:``); search prefers an entry whose
# facet is the one asked ("bao lâu một lần" → frequency) over a broader one on the same topic.
FACETS = ("overview", "which-clause", "what-requires", "mandatory", "frequency", "deadline", "duration", "order", "who",
          "records", "evidence", "difference", "how-to", "what-if", "definition", "legal")
MAX_TITLE_CHARS = 80
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,47}$")
LINE_KEY = "__line__"
KEY_LINES = "__keylines__"


class KnowledgeError(Exception):
    """The knowledge base has problems; ``problems`` lists them as ``file:line: message``."""

    def __init__(self, problems: list["Problem"]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n… và {len(problems) - 20} lỗi khác" if len(problems) > 20 else ""
        super().__init__(f"Kho kiến thức có {len(problems)} lỗi:\n{shown}{more}")


@dataclass(frozen=True)
class Problem:
    """One validation problem at a place in a YAML file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Document:
    """A document that answers may cite (standard, legal text or practice)."""

    id: str
    cite: str
    title: str
    kind: str
    verified: str
    note: str = ""
    clauses: frozenset[str] = frozenset()   # when listed, the only clause numbers a citation may name


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
    clause: str = ""                 # the clause of TCVN ISO 9001:2015 the entry answers for (bot.atlas)
    facets: tuple[str, ...] = ()     # the kinds of question it answers: which-clause, frequency, who…


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
    guides: dict[str, object] = field(default_factory=dict)     # id → bot.guides.Guide
    forms: dict[str, object] = field(default_factory=dict)      # id → bot.forms.Form
    calendar: list[object] = field(default_factory=list)        # bot.yearly.Event
    checklists: dict[str, object] = field(default_factory=dict)  # id → bot.checklists.Checklist
    quizzes: dict[str, object] = field(default_factory=dict)     # id → bot.quizzes.Question
    atlas: object = None                                         # bot.atlas.Atlas (clauses, vocabulary)
    readiness: list[object] = field(default_factory=list)        # bot.readiness.Point
    facet_cues: dict[str, "re.Pattern"] = field(default_factory=dict)   # facet → cue (facets.yaml)

    def entries_in_topic(self, topic_id: str) -> list[Entry]:
        """Entries of one topic, in file order."""
        return [e for e in self.entries.values() if e.topic == topic_id]

    def text(self, key: str, **values: object) -> str:
        """A UI sentence from ui.yaml with ``{placeholders}`` filled in."""
        template = self.ui.get(key, key)
        return template.format(**values) if values else template


# ---------------------------------------------------------------- YAML with line numbers


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10× faster


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that records the line of every mapping under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[object, int] = {}
    for key, _ in node.value:       # YAML keeps the last of two equal keys silently: a curator's slip
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"khóa '{key.value}' lặp lại (đã có ở dòng {seen[key.value]})", key.start_mark)
            seen[key.value] = key.start_mark.line + 1
    mapping = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    mapping[KEY_LINES] = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return mapping


def line_of(raw: dict, key: str | None = None) -> int:
    """The line of ``key`` in a parsed mapping (the mapping's own line when the key is absent)."""
    return raw.get(KEY_LINES, {}).get(key, raw.get(LINE_KEY, 1)) if key else raw.get(LINE_KEY, 1)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay strings: curators write 2026-11-25 and we never want datetime objects in content.
_LineLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in _BaseLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path, root: Path | None = None) -> tuple[object, list[Problem]]:
    """Parse one YAML file; a syntax error becomes a Problem with file and line."""
    name = _rel(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, f"không đọc được tệp: {exc}")]
    try:
        return yaml.load(text, Loader=_LineLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(name, line, f"YAML không hợp lệ: {problem}")]


def _rel(path: Path, root: Path | None) -> str:
    try:
        return str(path.relative_to(root.parent)) if root else str(path)
    except ValueError:
        return str(path)


def folder_documents(ck: "Checker", kb: "KnowledgeBase", folder: str, key: str):
    """Yield (path, file name, mapping under ``key``) for every knowledge/<folder>/*.yaml; problems are recorded."""
    for path in sorted((kb.root / folder).glob("*.yaml")):
        file = _rel(path, kb.root)
        data, problems = read_yaml(path, kb.root)
        ck.problems += problems
        if problems:
            continue
        raw = data.get(key) if isinstance(data, dict) else None
        if not isinstance(raw, (dict, list)):
            ck.add(file, 1, f"tệp phải có khóa '{key}:'")
            continue
        yield path, file, raw


def strip_lines(value: object) -> object:
    """Remove the ``__line__`` markers from parsed YAML (for content other modules read)."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (LINE_KEY, KEY_LINES)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


# ---------------------------------------------------------------- schema


class Checker:
    """Collects problems while turning raw YAML into dataclasses."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []

    def add(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def string(self, raw: dict, key: str, file: str, *, required: bool = True, where: str = "") -> str:
        value = raw.get(key)
        line = raw.get(LINE_KEY, 1)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(file, line, f"{where}thiếu trường '{key}'")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.add(file, line, f"{where}'{key}' phải là chuỗi")
            return ""
        return str(value).strip()

    def strings(self, raw: dict, key: str, file: str, *, where: str = "") -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.add(file, raw.get(LINE_KEY, 1), f"{where}'{key}' phải là danh sách chuỗi")
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def items(self, data: object, key: str, file: str) -> list[dict]:
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            line = data.get(LINE_KEY, 1) if isinstance(data, dict) else 1
            self.add(file, line, f"tệp phải có danh sách '{key}:'")
            return []
        out = []
        for i, item in enumerate(data[key]):
            if isinstance(item, dict):
                out.append(item)
            else:
                self.add(file, data.get(LINE_KEY, 1), f"phần tử thứ {i + 1} của '{key}' phải là một bảng khóa: giá trị")
        return out

    def ident(self, raw: dict, file: str, what: str) -> str:
        value = self.string(raw, "id", file, where=f"{what}: ")
        if value and not ID_RE.match(value):
            self.add(file, raw.get(LINE_KEY, 1), f"{what} '{value}': id chỉ gồm a-z, 0-9, '-' (2–48 ký tự)")
        return value


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


CLAUSE_REF = re.compile(rf"{CLAUSE_NUMBER}|(?:điều|Điều)\s+(\d{{1,2}})(?!\d|\.\d)")   # "8.5.1", "Điều 4"


def unknown_clauses(doc: Document, text: str) -> list[str]:
    """Clause numbers ("9.2.3", "Điều 11") that ``text`` names but ``doc`` does not have, when
    documents.yaml lists the document's clauses: a wrong clause number is the worst content bug."""
    if not doc.clauses:
        return []
    named = [a or b for a, b in CLAUSE_REF.findall(text)]
    return [c for c in dict.fromkeys(named) if c not in doc.clauses]


def _read(ck: Checker, kb: KnowledgeBase, name: str) -> tuple[str, object]:
    """(file name, parsed YAML) of knowledge/<name>; a YAML error is recorded and gives None."""
    path = kb.root / name
    data, problems = read_yaml(path, kb.root)
    ck.problems += problems
    return _rel(path, kb.root), (None if problems else data)


def _load_documents(ck: Checker, kb: KnowledgeBase) -> None:
    file, data = _read(ck, kb, "documents.yaml")
    for raw in ck.items(data, "documents", file) if data is not None else []:
        doc_id = ck.ident(raw, file, "tài liệu")
        doc = Document(
            id=doc_id,
            cite=ck.string(raw, "cite", file, where=f"tài liệu '{doc_id}': "),
            title=ck.string(raw, "title", file, where=f"tài liệu '{doc_id}': "),
            kind=ck.string(raw, "kind", file, where=f"tài liệu '{doc_id}': "),
            verified=ck.string(raw, "verified", file, where=f"tài liệu '{doc_id}': "),
            note=ck.string(raw, "note", file, required=False),
            clauses=frozenset(ck.strings(raw, "clauses", file, where=f"tài liệu '{doc_id}': ")),
        )
        if doc_id in kb.documents:
            ck.add(file, raw[LINE_KEY], f"tài liệu trùng id '{doc_id}'")
        kb.documents[doc_id] = doc


def _load_topics(ck: Checker, kb: KnowledgeBase) -> None:
    file, data = _read(ck, kb, "topics.yaml")
    for graw in ck.items(data, "groups", file) if data is not None else []:
        gid = ck.ident(graw, file, "nhóm")
        topic_ids = []
        for traw in ck.items(graw, "topics", file):
            tid = ck.ident(traw, file, "chủ đề")
            if tid in kb.topics:
                ck.add(file, traw[LINE_KEY], f"chủ đề trùng id '{tid}'")
            kb.topics[tid] = Topic(tid, ck.string(traw, "title", file, where=f"chủ đề '{tid}': "), gid)
            topic_ids.append(tid)
        kb.groups[gid] = Group(gid, ck.string(graw, "title", file, where=f"nhóm '{gid}': "), tuple(topic_ids))


def _load_glossary(ck: Checker, kb: KnowledgeBase) -> None:
    file, data = _read(ck, kb, "glossary.yaml")
    seen: dict[str, str] = {}
    for raw in ck.items(data, "terms", file) if data is not None else []:
        term = ck.string(raw, "term", file, where="thuật ngữ: ")
        expansion = ck.string(raw, "expansion", file, where=f"thuật ngữ '{term}': ")
        variants = ck.strings(raw, "variants", file, where=f"thuật ngữ '{term}': ")
        for v in (term, *variants):
            key = fold(v)
            if key and key in seen and seen[key] != fold(expansion):
                ck.add(file, raw[LINE_KEY], f"biến thể '{v}' đã thuộc thuật ngữ khác ('{seen[key]}')")
            seen[key] = fold(expansion)
        kb.glossary.append(GlossaryTerm(term, expansion, variants, ck.string(raw, "note", file, required=False),
                                        raw.get("generic") is True))


def _load_ui(ck: Checker, kb: KnowledgeBase) -> None:
    file, data = _read(ck, kb, "ui.yaml")
    if data is None:
        return
    if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
        ck.add(file, 1, "tệp phải có bảng 'messages:'")
        return
    for key, value in data["messages"].items():
        if key in (LINE_KEY, KEY_LINES):
            continue
        if not isinstance(value, str) or not value.strip():
            ck.add(file, line_of(data["messages"], key), f"câu '{key}' phải là chuỗi không rỗng")
            continue
        if "_patterns_" in key or key.endswith("_fillers"):   # regular expressions matched against messages
            try:
                re.compile(value)
            except re.error as exc:
                ck.add(file, line_of(data["messages"], key), f"'{key}' không phải biểu thức chính quy hợp lệ: {exc}")
                continue
        kb.ui[key] = value.strip()


def _load_facets(ck: Checker, kb: KnowledgeBase) -> None:
    """knowledge/facets.yaml: one regular expression per facet, matched against folded text."""
    if not (kb.root / "facets.yaml").exists():
        return
    file, data = _read(ck, kb, "facets.yaml")
    cues = data.get("facets") if isinstance(data, dict) else None
    if data is not None and not isinstance(cues, dict):
        ck.add(file, 1, "tệp phải có bảng 'facets:'")
        return
    for name, pattern in (cues or {}).items():
        if name in (LINE_KEY, KEY_LINES):
            continue
        if name not in FACETS:
            ck.add(file, line_of(cues, name), f"facet '{name}' không có (dùng: {', '.join(FACETS)})")
            continue
        try:
            kb.facet_cues[name] = re.compile(str(pattern))
        except re.error as exc:
            ck.add(file, line_of(cues, name), f"'{name}' không phải biểu thức chính quy hợp lệ: {exc}")


def facets_of(kb: KnowledgeBase, folded: str) -> frozenset[str]:
    """The facets whose cue a folded text matches."""
    return frozenset(name for name, cue in kb.facet_cues.items() if cue.search(folded))


def _load_out_of_scope(ck: Checker, kb: KnowledgeBase) -> None:
    if not (kb.root / "out_of_scope.yaml").exists():
        return
    file, data = _read(ck, kb, "out_of_scope.yaml")
    for raw in ck.items(data, "out_of_scope", file) if data is not None else []:
        oid = ck.ident(raw, file, "nhóm ngoài phạm vi")
        examples = ck.strings(raw, "examples", file, where=f"'{oid}': ")
        if not examples:
            ck.add(file, raw[LINE_KEY], f"'{oid}': cần ít nhất một câu ví dụ trong 'examples'")
        kb.out_of_scope.append(OutOfScope(oid, ck.string(raw, "title", file, where=f"'{oid}': "), examples))


STANDARD_ID = "tcvn-9001"   # answers that say "khoản 9.2.3" mean this standard unless they cite 19011
ANSWER_CLAUSE = re.compile(rf"(?:khoản|Khoản|mục)\s+{CLAUSE_NUMBER}")


def _load_entries(ck: Checker, kb: KnowledgeBase) -> None:
    folder = kb.root / "entries"
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        ck.add(_rel(folder, kb.root), 1, "không có tệp mục hỏi–đáp nào (entries/*.yaml)")
    where_id: dict[str, tuple[str, int]] = {}
    standard = kb.documents.get(STANDARD_ID)
    related_refs: list[tuple[str, int, str, str]] = []
    for path in files:
        file = _rel(path, kb.root)
        data, problems = read_yaml(path, kb.root)
        ck.problems += problems
        if problems:
            continue
        for raw in ck.items(data, "entries", file):
            line = raw[LINE_KEY]
            eid = ck.ident(raw, file, "mục")
            w = f"mục '{eid}': "
            topic = ck.string(raw, "topic", file, where=w)
            if topic and topic not in kb.topics:
                ck.add(file, line_of(raw, "topic"), f"{w}chủ đề '{topic}' không có trong topics.yaml")
            title = ck.string(raw, "title", file, where=w)
            if len(title) > MAX_TITLE_CHARS:
                ck.add(file, line_of(raw, "title"), f"{w}tiêu đề dài {len(title)} ký tự (tối đa {MAX_TITLE_CHARS})")
            questions = ck.strings(raw, "questions", file, where=w)
            if not questions:
                ck.add(file, line, f"{w}cần ít nhất một cách hỏi trong 'questions'")
            answer = ck.string(raw, "answer", file, where=w)
            if len(answer) > MAX_ANSWER_CHARS:
                ck.add(file, line_of(raw, "answer"), f"{w}câu trả lời dài {len(answer)} ký tự (tối đa {MAX_ANSWER_CHARS})")
            sources = sources_of(ck, kb, raw, file, w)
            if standard and "19011" not in answer:
                named = " ".join(m.group(0) for m in ANSWER_CLAUSE.finditer(answer))
                for clause in unknown_clauses(standard, named):
                    ck.add(file, line_of(raw, "answer"), f"{w}câu trả lời nhắc khoản {clause}, {standard.cite} không có khoản này")
            if not raw.get("sources"):
                ck.add(file, line, f"{w}thiếu nguồn trích dẫn ('sources')")
            related = ck.strings(raw, "related", file, where=w)
            related_refs += [(file, line_of(raw, "related"), eid, r) for r in related]
            if eid in where_id:
                f0, l0 = where_id[eid]
                ck.add(file, line, f"id '{eid}' trùng với mục ở {f0}:{l0}")
                continue
            if eid:
                where_id[eid] = (file, line)
                facets = ck.strings(raw, "facets", file, where=w)
                for f in facets:
                    if f not in FACETS:
                        ck.add(file, line_of(raw, "facets"), f"{w}facet '{f}' không có (dùng: {', '.join(FACETS)})")
                kb.entries[eid] = Entry(
                    eid, topic, title, questions, answer, tuple(sources), related,
                    ck.strings(raw, "keywords", file, where=w), file, line, facets=facets,
                )
    for file, line, eid, r in related_refs:
        if r == eid:
            ck.add(file, line, f"mục '{eid}': 'related' trỏ vào chính nó")
        elif r not in kb.entries:
            ck.add(file, line, f"mục '{eid}': 'related' trỏ tới mục không tồn tại '{r}'")
    _check_shared_questions(ck, kb)


def _check_shared_questions(ck: Checker, kb: KnowledgeBase) -> None:
    owners: dict[str, list[Entry]] = defaultdict(list)
    for e in kb.entries.values():
        for q in set(fold(q) for q in (*e.questions, e.title)):
            owners[q].append(e)
    for q, es in owners.items():
        if len(es) > 1:
            for e in es[1:]:
                ck.add(e.file, e.line, f"mục '{e.id}': cách hỏi '{q}' trùng với mục '{es[0].id}'")


def load(root: str | Path, *, strict: bool = True) -> KnowledgeBase:
    """Load the knowledge base in ``root``. With ``strict`` any problem raises KnowledgeError."""
    kb, problems = load_with_problems(root)
    if strict and problems:
        raise KnowledgeError(problems)
    return kb


def load_with_problems(root: str | Path) -> tuple[KnowledgeBase, list[Problem]]:
    """Load everything and return the knowledge base with the list of problems found."""
    from bot import atlas, checklists, forms, guides, quizzes, readiness, yearly  # they build on the entries

    root = Path(root)
    kb = KnowledgeBase(root=root)
    ck = Checker(root)
    if not root.is_dir():
        return kb, [Problem(str(root), 1, "không tìm thấy thư mục kho kiến thức")]
    for step in (_load_documents, _load_topics, _load_glossary, _load_ui, _load_facets, _load_entries, _load_out_of_scope,
                 forms.load_forms, guides.load_guides, yearly.load_calendar, checklists.load_checklists,
                 quizzes.load_quizzes, atlas.load_atlas, readiness.load_readiness):
        step(ck, kb)
    return kb, ck.problems


def stats(kb: KnowledgeBase) -> list[tuple[str, str, int]]:
    """(topic id, topic title, number of entries) for every topic, in browsing order."""
    counts = Counter(e.topic for e in kb.entries.values())
    return [(t.id, t.title, counts.get(t.id, 0)) for t in kb.topics.values()]
