"""Load and validate the whole knowledge base: the top floor, the one module that knows every kind of
content and the order they are read in.

The core files (documents, topics, glossary, UI text, facets, entries, out-of-scope questions) are read
here; each other kind is read by its own module's loader (``bot.forms.load_forms`` …), in an order
where what a kind links to is already there. Every problem is reported as ``file:line: message`` so
curators can fix content without reading code. Nothing in bot/ imports this module but the CLI and
the cache: the features only need bot.knowledge's classes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from bot import atlas, checklists, forms, guides, quizzes, readiness, yearly
from bot.knowledge import (
    FACETS,
    MAX_ANSWER_CHARS,
    MAX_TITLE_CHARS,
    STANDARD_ID,
    Document,
    Entry,
    GlossaryTerm,
    Group,
    KnowledgeBase,
    OutOfScope,
    Topic,
    sources_of,
    unknown_clauses,
)
from bot.text import CLAUSE_NUMBER, fold
from bot.yamlcheck import (
    KEY_LINES,
    LINE_KEY,
    Checker,
    KnowledgeError,
    Problem,
    file_name,
    line_of,
    load_file,
    load_folder,
    yaml_files,
)

ANSWER_CLAUSE = re.compile(rf"(?:khoản|Khoản|mục)\s+{CLAUSE_NUMBER}")


def load(root: str | Path, *, strict: bool = True) -> KnowledgeBase:
    """Load the knowledge base in ``root``. With ``strict`` any problem raises KnowledgeError."""
    kb, problems = load_with_problems(root)
    if strict and problems:
        raise KnowledgeError(problems)
    return kb


def load_with_problems(root: str | Path) -> tuple[KnowledgeBase, list[Problem]]:
    """Load everything and return the knowledge base with the list of problems found."""
    root = Path(root).absolute()  # content files are found under it whatever the working directory
    kb = KnowledgeBase(root=root)
    ck = Checker(root)
    if not root.is_dir():
        return kb, [Problem(str(root), 1, "không tìm thấy thư mục kho kiến thức")]
    for step in STEPS:
        step(ck, kb)
    return kb, ck.problems


def stats(kb: KnowledgeBase) -> list[tuple[str, str, int]]:
    """(topic id, topic title, number of entries) for every topic, in browsing order."""
    counts = Counter(e.topic for e in kb.entries.values())
    return [(t.id, t.title, counts.get(t.id, 0)) for t in kb.topics.values()]


# ---------------------------------------------------------------- the core files


def _load_documents(ck: Checker, kb: KnowledgeBase) -> None:
    for _, file, raw in load_file(ck, "documents.yaml", "documents", many=True):
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
    for _, file, graw in load_file(ck, "topics.yaml", "groups", many=True):
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
    seen: dict[str, str] = {}
    for _, file, raw in load_file(ck, "glossary.yaml", "terms", many=True):
        term = ck.string(raw, "term", file, where="thuật ngữ: ")
        expansion = ck.string(raw, "expansion", file, where=f"thuật ngữ '{term}': ")
        variants = ck.strings(raw, "variants", file, where=f"thuật ngữ '{term}': ")
        for v in (term, *variants):
            key = fold(v)
            if key and key in seen and seen[key] != fold(expansion):
                ck.add(file, raw[LINE_KEY], f"biến thể '{v}' đã thuộc thuật ngữ khác ('{seen[key]}')")
            seen[key] = fold(expansion)
        kb.glossary.append(
            GlossaryTerm(
                term, expansion, variants, ck.string(raw, "note", file, required=False), raw.get("generic") is True
            )
        )


# "bấm" (press): a sentence of ui.yaml that says it needs a ``__text`` variant for Zalo and the terminal,
# which have numbered options instead (Feature.say picks it by the user's channel). "nút" alone is not
# checked: sentences shown only on Telegram (bot.menus) count its buttons.
BUTTON_WORDS = re.compile(r"(?<!\w)bấm(?!\w)", re.IGNORECASE)
TEXTS_ONLY = "__text"


def _load_ui(ck: Checker, kb: KnowledgeBase) -> None:
    for _, file, messages in load_file(ck, "ui.yaml", "messages"):
        for key, value in messages.items():
            if key in (LINE_KEY, KEY_LINES):
                continue
            if not isinstance(value, str) or not value.strip():
                ck.add(file, line_of(messages, key), f"câu '{key}' phải là chuỗi không rỗng")
                continue
            if "_patterns_" in key or key.endswith("_fillers"):  # regular expressions matched against messages
                try:
                    re.compile(value)
                except re.error as exc:
                    ck.add(file, line_of(messages, key), f"'{key}' không phải biểu thức chính quy hợp lệ: {exc}")
                    continue
            kb.ui[key] = value.strip()
        for key in messages:
            if key not in kb.ui or not BUTTON_WORDS.search(kb.ui[key]):
                continue
            if key.endswith(TEXTS_ONLY):
                ck.add(file, line_of(messages, key), f"câu '{key}' là câu cho Zalo: nói «chọn», «gõ số», không «bấm»")
            elif key + TEXTS_ONLY not in messages:
                ck.add(
                    file,
                    line_of(messages, key),
                    f"câu '{key}' nói «bấm»: Zalo không có nút, cần câu '{key}{TEXTS_ONLY}' nói «chọn», «gõ số»",
                )


def _load_facets(ck: Checker, kb: KnowledgeBase) -> None:
    """knowledge/facets.yaml: one regular expression per facet, matched against folded text."""
    if not (kb.root / "facets.yaml").exists():
        return
    for _, file, cues in load_file(ck, "facets.yaml", "facets"):
        for name, pattern in cues.items():
            if name in (LINE_KEY, KEY_LINES):
                continue
            if name not in FACETS:
                ck.add(file, line_of(cues, name), f"facet '{name}' không có (dùng: {', '.join(FACETS)})")
                continue
            try:
                kb.facet_cues[name] = re.compile(str(pattern))
            except re.error as exc:
                ck.add(file, line_of(cues, name), f"'{name}' không phải biểu thức chính quy hợp lệ: {exc}")


def _load_out_of_scope(ck: Checker, kb: KnowledgeBase) -> None:
    if not (kb.root / "out_of_scope.yaml").exists():
        return
    for _, file, raw in load_file(ck, "out_of_scope.yaml", "out_of_scope", many=True):
        oid = ck.ident(raw, file, "nhóm ngoài phạm vi")
        examples = ck.strings(raw, "examples", file, where=f"'{oid}': ")
        if not examples:
            ck.add(file, raw[LINE_KEY], f"'{oid}': cần ít nhất một câu ví dụ trong 'examples'")
        kb.out_of_scope.append(OutOfScope(oid, ck.string(raw, "title", file, where=f"'{oid}': "), examples))


ENTRY_FILES = ("*.yaml", "*.yml")


def _load_entries(ck: Checker, kb: KnowledgeBase) -> None:
    if not yaml_files(kb.root / "entries", ENTRY_FILES):
        ck.add(file_name(kb.root / "entries", kb.root), 1, "không có tệp mục hỏi–đáp nào (entries/*.yaml)")
    where_id: dict[str, tuple[str, int]] = {}
    standard = kb.documents.get(STANDARD_ID)
    related_refs: list[tuple[str, int, str, str]] = []
    for _, file, raw in load_folder(ck, "entries", "entries", many=True, patterns=ENTRY_FILES):
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
                ck.add(
                    file,
                    line_of(raw, "answer"),
                    f"{w}câu trả lời nhắc khoản {clause}, {standard.cite} không có khoản này",
                )
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
                eid,
                topic,
                title,
                questions,
                answer,
                tuple(sources),
                related,
                ck.strings(raw, "keywords", file, where=w),
                file,
                line,
                facets=facets,
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


# What is read, in order: each kind after the kinds it links to (a guide names forms, a checklist
# item a guide, a readiness point a checklist item; the atlas links to all of them and adds entries).
STEPS: tuple[Callable[[Checker, KnowledgeBase], None], ...] = (
    _load_documents,
    _load_topics,
    _load_glossary,
    _load_ui,
    _load_facets,
    _load_entries,
    _load_out_of_scope,
    forms.load_forms,
    guides.load_guides,
    yearly.load_calendar,
    checklists.load_checklists,
    quizzes.load_quizzes,
    atlas.load_atlas,
    readiness.load_readiness,
)
