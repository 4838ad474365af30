"""The clause atlas of TCVN ISO 9001:2015 and the vocabulary of TCVN ISO 9000:2015 / 19011:2018
(knowledge/standard/*.yaml): structured content, checked against the clause registry, answered as
entries and browsed clause by clause.

Every clause and sub-clause from 4.1 to 10.3 has a record: its title, what it requires (in our own
words), the documented information it requires (kept up to date / kept as evidence), what it looks
like in a commune or ward, what an inspector asks to see, the findings inspectors often write, and
links to entries, guides and checklist items. "Which clause is X?" and "What does 9.3.1 require?"
are answered from it: a record's own ``entry`` (a curated entry that already answers "what does this
clause require") gets the record's phrasings, or else an entry is made from the record. Each term of
the vocabulary becomes a "X là gì?" entry, and each contrast a "X khác Y thế nào?" entry.
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot import nav
from bot.actions import Action, Choice, Feature, Field, command, prompt
from bot.home import home_row
from bot.knowledge import (
    MAX_ANSWER_CHARS,
    STANDARD_ID,
    Atlas,
    Clause,
    Document,
    Entry,
    KnowledgeBase,
    Source,
    Term,
    sources_of,
)
from bot.reply import Button, Reply, User, short
from bot.text import fold
from bot.yamlcheck import LINE_KEY, Checker, file_name, line_of, load_folder, yaml_files

ATLAS_TOPIC = "dieu-khoan"  # the topic of entries made from clause records
VOCABULARY_TOPIC = "thuat-ngu"
MAX_ALIAS_PAIRS = 3  # a contrast is also asked by the terms' other names, in this many pairs at most
MAX_FIELD_CHARS = 600
CLAUSE_FIELD = r"(?:[4-9]|10)(?:\.\d{1,2}){0,3}"


def clause_sort_key(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split("."))


def required_clauses(kb: KnowledgeBase) -> list[str]:
    """Every clause of the registry from 4 to 10.3 (documents.yaml lists the standard's clauses)."""
    standard = kb.documents.get(STANDARD_ID)
    numbers = [n for n in (standard.clauses if standard else ()) if 4 <= int(n.split(".")[0]) <= 10]
    return sorted(numbers, key=clause_sort_key)


# ---------------------------------------------------------------------- loading


def load_atlas(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/standard/clauses*.yaml and vocabulary*.yaml; check them; make their entries."""
    folder = kb.root / "standard"
    if not folder.is_dir():
        return
    atlas = Atlas()
    kb.atlas = atlas
    _load_clauses(ck, kb, atlas)
    for _, file, raw in load_folder(ck, "standard", "terms", many=True, patterns=("vocabulary*.yaml",)):
        _load_term(ck, kb, atlas, raw, file)
    _finish_vocabulary(ck, kb, atlas)


def _texts(ck: Checker, raw: dict, key: str, file: str, where: str) -> tuple[str, ...]:
    values = ck.strings(raw, key, file, where=where)
    for v in values:
        if len(v) > MAX_FIELD_CHARS:
            ck.add(file, line_of(raw, key), f"{where}'{key}' có mục dài {len(v)} ký tự (tối đa {MAX_FIELD_CHARS})")
    return values


CLAUSE_FILES = ("clauses*.yaml",)


def _load_clauses(ck: Checker, kb: KnowledgeBase, atlas: Atlas) -> None:
    """Every standard/clauses*.yaml (one file per clause, or one for all)."""
    registry = set(required_clauses(kb))
    standard = kb.documents.get(STANDARD_ID)
    for _, file, raw in load_folder(ck, "standard", "clauses", many=True, patterns=CLAUSE_FILES):
        _load_clause(ck, kb, atlas, raw, file, registry, standard)
    paths = yaml_files(kb.root / "standard", CLAUSE_FILES)
    if not paths:
        return
    file = file_name(paths[-1], kb.root)  # where a clause missing from every file is reported
    for number in sorted(registry - set(atlas.clauses), key=clause_sort_key):
        ck.add(file, 1, f"chưa có khoản {number} trong atlas (mỗi khoản từ 4.1 đến 10.3 cần một mục)")
    atlas.clauses = dict(sorted(atlas.clauses.items(), key=lambda kv: clause_sort_key(kv[0])))
    if ATLAS_TOPIC not in kb.topics:
        ck.add(file, 1, f"topics.yaml cần chủ đề '{ATLAS_TOPIC}' cho các khoản của atlas")
        return
    for clause in atlas.clauses.values():
        _attach_clause(ck, kb, clause, file)


def _load_clause(
    ck: Checker, kb: KnowledgeBase, atlas: Atlas, raw: dict, file: str, registry: set[str], standard: Document | None
) -> None:
    """One record: checked, then kept in the atlas."""
    number = ck.string(raw, "number", file, where="điều khoản: ")
    w = f"khoản {number}: "
    if number and number not in registry:
        ck.add(file, line_of(raw, "number"), f"{w}TCVN ISO 9001:2015 không có khoản này (từ 4 đến 10.3)")
        return
    if number in atlas.clauses:
        ck.add(file, raw[LINE_KEY], f"{w}khoản trùng")
    documented = raw.get("documented") if isinstance(raw.get("documented"), dict) else {}
    clause = Clause(
        number,
        ck.string(raw, "title", file, where=w),
        ck.string(raw, "requires", file, where=w),
        maintain=_texts(ck, documented, "maintain", file, w) if documented else (),
        retain=_texts(ck, documented, "retain", file, w) if documented else (),
        commune=ck.string(raw, "commune", file, required=False, where=w),
        evidence=_texts(ck, raw, "evidence", file, w),
        findings=_texts(ck, raw, "findings", file, w),
        not_applicable=ck.string(raw, "not_applicable", file, required=False, where=w),
        entry=ck.string(raw, "entry", file, required=False, where=w),
        entries=ck.strings(raw, "entries", file, where=w),
        guides=ck.strings(raw, "guides", file, where=w),
        checklist_items=ck.strings(raw, "checklist_items", file, where=w),
        keywords=ck.strings(raw, "keywords", file, where=w),
        untitled=raw.get("untitled") is True,
    )
    for key in ("requires", "commune", "not_applicable"):
        if len(getattr(clause, key)) > MAX_FIELD_CHARS:
            ck.add(
                file, line_of(raw, key), f"{w}'{key}' dài {len(getattr(clause, key))} ký tự (tối đa {MAX_FIELD_CHARS})"
            )
    for e in (clause.entry, *clause.entries):
        if e and e not in kb.entries:
            ck.add(file, line_of(raw, "entries"), f"{w}mục '{e}' không có trong kho hỏi–đáp")
    for g in clause.guides:
        if g not in kb.guides:
            ck.add(file, line_of(raw, "guides"), f"{w}hướng dẫn '{g}' không tồn tại")
    for item in clause.checklist_items:
        cid, _, iid = item.partition("/")
        cl = kb.checklists.get(cid)
        if cl is None or not any(i.id == iid for i in cl.items):
            ck.add(file, line_of(raw, "checklist_items"), f"{w}câu bảng kiểm '{item}' không có (dạng bang-kiem/cau)")
    text = " ".join([clause.requires, clause.commune, clause.not_applicable, *clause.evidence, *clause.findings])
    for named in _unknown_clause_mentions(standard, text):
        ck.add(file, raw[LINE_KEY], f"{w}nhắc khoản {named}, TCVN ISO 9001:2015 không có khoản này")
    atlas.clauses[number] = clause


CLAUSE_WORD = re.compile(r"(?:khoản|Khoản|điều khoản|mục)\s+((?:[4-9]|10)(?:\.\d{1,2}){1,3})(?!\d|\.\d)")


def _unknown_clause_mentions(standard: Document | None, text: str) -> list[str]:
    if standard is None or not standard.clauses:
        return []
    return [n for n in dict.fromkeys(CLAUSE_WORD.findall(text)) if n not in standard.clauses]


GENERIC_TITLES = {"khai quat"}  # "7.1.1 Khái quát": named by its parent's title


def full_title(atlas: Atlas | None, clause: Clause) -> str:
    """The title that says what a clause is about: "Xem xét của lãnh đạo – khái quát" for 9.3.1."""
    if fold(clause.title) in GENERIC_TITLES and atlas and clause.parent in atlas.clauses:
        return f"{atlas.clauses[clause.parent].title} – {clause.title.lower()}"
    return clause.title


def heading(kb: KnowledgeBase, clause: Clause) -> str:
    """ "Khoản 9.2: Đánh giá nội bộ"; a clause the standard leaves untitled says that its title is
    our summary, so nobody quotes it as the TCVN wording."""
    if clause.untitled:
        return f"Khoản {clause.number} ({kb.text('atlas_untitled')}): {clause.title}"
    return f"Khoản {clause.number}: {clause.title}"


def clause_phrasings(clause: Clause, title: str | None = None) -> list[str]:
    """How officials ask for a clause: by number, by title, by what they call it."""
    n = clause.number
    title = title or clause.title
    title = title[:1].lower() + title[1:]
    out = [f"khoản {n} yêu cầu gì", f"điều khoản {n} quy định gì"]
    if fold(clause.title) not in GENERIC_TITLES:
        out += [f"{title} là điều khoản nào", f"{title} nằm ở khoản nào của tiêu chuẩn"]
    for kw in clause.keywords:
        out += [f"{kw} là điều khoản nào", f"{kw} thuộc khoản nào của ISO 9001"]
    return out


def clause_answer(kb: KnowledgeBase, clause: Clause) -> str:
    """What an entry made from a record says (at most MAX_ANSWER_CHARS)."""
    named = (
        f"Khoản {clause.number} ({kb.text('atlas_about')} {clause.title[:1].lower()}{clause.title[1:]})"
        if clause.untitled
        else f"Khoản {clause.number} «{full_title(kb.atlas, clause)}»"
    )
    parts = [f"{named} yêu cầu: {clause.requires}"]
    if clause.maintain or clause.retain:
        docs = []
        if clause.maintain:
            docs.append(kb.text("atlas_maintain") + ": " + "; ".join(clause.maintain))
        if clause.retain:
            docs.append(kb.text("atlas_retain") + ": " + "; ".join(clause.retain))
        parts.append("\n".join(docs))
    if clause.not_applicable:
        parts.append(kb.text("atlas_not_applicable") + ": " + clause.not_applicable)
    if clause.commune:
        parts.append(kb.text("atlas_commune") + ": " + clause.commune)
    text = "\n\n".join(parts)
    return text if len(text) <= MAX_ANSWER_CHARS else text[: MAX_ANSWER_CHARS - 1].rstrip() + "…"


def _attach_clause(ck: Checker, kb: KnowledgeBase, clause: Clause, file: str) -> None:
    """Give the clause's own entry the clause's phrasings, or make an entry from the record."""
    source = Source(kb.documents[STANDARD_ID], f"khoản {clause.number}")
    taken = {fold(q) for e in kb.entries.values() for q in (*e.questions, e.title)}
    title = full_title(kb.atlas, clause)
    phrasings = tuple(q for q in clause_phrasings(clause, title) if fold(q) not in taken)
    if clause.entry in kb.entries:
        e = kb.entries[clause.entry]
        kb.entries[e.id] = Entry(
            e.id,
            e.topic,
            e.title,
            e.questions + phrasings,
            e.answer,
            e.sources,
            e.related,
            e.keywords,
            e.file,
            e.line,
            clause=clause.number,
            facets=e.facets,
        )
        return
    if clause.slug in kb.entries:
        ck.add(file, 1, f"id '{clause.slug}' của khoản {clause.number} trùng với một mục")
        return
    title = short(
        f"Khoản {clause.number} ({kb.text('atlas_about')} {title[:1].lower()}{title[1:]})"
        if clause.untitled
        else f"Khoản {clause.number}: {title}",
        80,
    )
    related = tuple(e for e in clause.entries if e in kb.entries)[:3]
    kb.entries[clause.slug] = Entry(
        clause.slug,
        ATLAS_TOPIC,
        title,
        (f"khoản {clause.number}", *phrasings),
        clause_answer(kb, clause),
        (source,),
        related,
        (),
        file,
        1,
        clause=clause.number,
        facets=("which-clause", "what-requires"),
    )


def _load_term(ck: Checker, kb: KnowledgeBase, atlas: Atlas, raw: dict, file: str) -> None:
    """One term of standard/vocabulary*.yaml, kept until every file is read (see _finish_vocabulary)."""
    tid = ck.ident(raw, file, "thuật ngữ")
    w = f"thuật ngữ '{tid}': "
    sources = sources_of(ck, kb, raw, file, w)
    doc = sources[0].doc.id if sources else ""
    contrasts = []
    for c in raw.get("contrasts") or []:
        if isinstance(c, dict):
            contrasts.append((ck.string(c, "with", file, where=w), ck.string(c, "difference", file, where=w)))
    term = Term(
        tid,
        ck.string(raw, "term", file, where=w),
        doc,
        ck.string(raw, "definition", file, where=w),
        ck.string(raw, "example", file, required=False, where=w),
        ck.strings(raw, "aliases", file, where=w),
        tuple(contrasts),
    )
    if tid in atlas.terms:
        ck.add(file, raw[LINE_KEY], f"{w}id trùng")
    atlas.terms[tid] = term
    atlas.pending.append((term, sources, file, raw[LINE_KEY]))


def _finish_vocabulary(ck: Checker, kb: KnowledgeBase, atlas: Atlas) -> None:
    """Entries of every term and contrast, once all vocabulary files are read (a contrast may name a
    term of another file)."""
    for term, sources, file, line in atlas.pending:
        _term_entries(ck, kb, atlas, term, sources, file, line)
    atlas.pending.clear()


def _term_entries(
    ck: Checker, kb: KnowledgeBase, atlas: Atlas, term: Term, sources: tuple[Source, ...], file: str, line: int
) -> None:
    if VOCABULARY_TOPIC not in kb.topics:
        ck.add(file, line, f"topics.yaml cần chủ đề '{VOCABULARY_TOPIC}'")
        return
    taken = {fold(q) for e in kb.entries.values() for q in (*e.questions, e.title)}
    names = (term.term, *term.aliases)
    answer = f"{term.term[:1].upper()}{term.term[1:]}: {term.definition}"
    if term.example:
        answer += f"\n\n{kb.text('atlas_example')}: {term.example}"
    eid = f"tv-{term.id}"
    if len(answer) > MAX_ANSWER_CHARS:
        ck.add(file, line, f"thuật ngữ '{term.id}': câu trả lời dài {len(answer)} ký tự (tối đa {MAX_ANSWER_CHARS})")
    if eid in kb.entries:
        ck.add(file, line, f"thuật ngữ '{term.id}': id '{eid}' trùng với một mục")
        return
    # officials often name the standard that defines the term ("theo TCVN ISO 9000:2015, năng lực được
    # hiểu thế nào"): without it in a phrasing, entries that mention the standard elsewhere outrank the term
    cite = sources[0].doc.cite if sources else ""
    questions = tuple(
        q
        for n in names
        for q in (
            f"{n} là gì",
            f"thế nào là {n}",
            f"định nghĩa {n}",
            f"{n} theo {cite} được hiểu thế nào" if cite else "",
        )
        if q and fold(q) not in taken
    )
    kb.entries[eid] = Entry(
        eid,
        VOCABULARY_TOPIC,
        short(f"{term.term[:1].upper()}{term.term[1:]} là gì?", 80),
        questions,
        answer,
        tuple(sources),
        (),
        (),
        file,
        line,
        facets=("definition",),
        defines=names,
    )
    for other_id, difference in term.contrasts:
        other = atlas.terms.get(other_id)
        if other is None:
            ck.add(file, line, f"thuật ngữ '{term.id}': so sánh với '{other_id}' không có trong vocabulary.yaml")
            continue
        cid = f"tv-{min(term.id, other.id)}-vs-{max(term.id, other.id)}"
        if cid in kb.entries:
            ck.add(file, line, f"thuật ngữ '{term.id}': so sánh với '{other.id}' viết hai lần")
            continue
        a, b = term.term, other.term
        # and by the other names of either term ("quy trình và quá trình khác nhau thế nào")
        also = [(x, y) for x in (a, *term.aliases) for y in (b, *other.aliases) if (x, y) != (a, b)]
        qs = tuple(
            dict.fromkeys(
                q
                for q in (
                    f"{a} khác {b} thế nào",
                    f"{b} khác {a} ở điểm nào",
                    f"phân biệt {a} và {b}",
                    f"{a} và {b} khác nhau chỗ nào",
                    *(f"{x} và {y} khác nhau thế nào" for x, y in also[:MAX_ALIAS_PAIRS]),
                    *(f"phân biệt {y} với {x}" for x, y in also[:MAX_ALIAS_PAIRS]),
                )
                if fold(q) not in taken
            )
        )
        text = (
            f"{difference}\n\n– {a[:1].upper()}{a[1:]}: {term.definition}\n– {b[:1].upper()}{b[1:]}: {other.definition}"
        )
        if len(text) > MAX_ANSWER_CHARS:
            text = difference
        kb.entries[cid] = Entry(
            cid,
            VOCABULARY_TOPIC,
            short(f"{a[:1].upper()}{a[1:]} khác {b} thế nào?", 80),
            qs,
            text,
            tuple(sources),
            (eid, f"tv-{other.id}"),
            (),
            file,
            line,
            facets=("difference",),
        )


# ---------------------------------------------------------------------- screens


class AtlasPrompt(StrEnum):
    CLAUSE = "atlas_clause"  # the clause menu is shown: "9.2", "dieu 9", "khoản 9.2" typed open that clause


# "9.2", "dieu 9", "khoản 9.2", "điều khoản 10.3" once folded ("khoan 9 2"): the words, then the number
TYPED_CLAUSE = re.compile(r"^(?:(dieu khoan|dieu|khoan|muc|clause) )?(\d{1,2}(?: \d{1,2}){0,3})$")

CLAUSE = Action("ac", Field("clause", CLAUSE_FIELD), needs_db=False, name="atlas.clause")
PART = Action(
    "ap", Field("clause", CLAUSE_FIELD), Choice("part", "evidence", "documents"), needs_db=False, name="atlas.part"
)
ROOT = Action("ar", needs_db=False, name="atlas")


def typed_clause(text: str) -> tuple[str, str] | None:
    """("khoan", "9.2") for "khoản 9.2", ("", "9") for "9"; None for text that names no clause number."""
    m = TYPED_CLAUSE.match(fold(text))
    return (m.group(1) or "", m.group(2).replace(" ", ".")) if m else None


def atlas_button(kb: KnowledgeBase, number: str) -> Button | None:
    """«📖 Khoản N: hồ sơ, lỗi hay gặp» under an answer about a clause."""
    clause = kb.atlas.clauses.get(number) if kb.atlas else None
    return CLAUSE.button(short(kb.text("atlas_button", number=number), 60), number) if clause else None


class Clauses(Feature):
    """/dieukhoan: the atlas, clause by clause: requirement, records, evidence, common findings."""

    @command("dieukhoan", shortcut="atlas")
    def home(self, user: User, arg: str = "") -> Reply:
        """/dieukhoan: the clauses 4–10; /dieukhoan 9.2 (or "khoản 9.2"): that clause."""
        typed = typed_clause(arg)
        if typed and self.kb.atlas and typed[1] in self.kb.atlas.clauses:
            return self.clause(user, typed[1])
        return self.root(user)

    @ROOT
    def root(self, user: User) -> Reply:
        """Clauses 4–10, each numbered by its clause on channels without buttons ("4. Bối cảnh…")."""
        atlas = self.kb.atlas
        rows = [
            [
                Button(
                    short(f"Điều {c.number}: {c.title}", 60),
                    CLAUSE.data(c.number),
                    key=c.number,
                    listed=short(c.title, 60),
                )
            ]
            for c in (atlas.clauses.values() if atlas else ())
            if "." not in c.number
        ]
        rows.append([nav.TOPICS.button(self.text("btn_topics")), *home_row(self.ctx)])
        self.wait_passively(user, AtlasPrompt.CLAUSE)  # a clause number typed next opens it
        return Reply(buttons=rows).add(self.text("atlas_intro"))

    @prompt(AtlasPrompt.CLAUSE, passive=True)
    def clause_typed(self, user: User, data: dict, text: str) -> Reply | None:
        """ "9.2", "dieu 9", "khoản 9.2" typed on the clause menu: that clause; a clause the standard has
        not ("khoản 9.7"): said so, with the menu. Anything else (None) is read as usual."""
        typed = typed_clause(text)
        if typed is None or self.kb.atlas is None:
            return None
        words, number = typed
        if number in self.kb.atlas.clauses:
            return self.clause(user, number)
        if not words and "." not in number:
            return None
        return Reply(buttons=self.root(user).buttons).add(self.text("atlas_no_such_clause", number=number))

    @CLAUSE
    def clause(self, user: User, number: str) -> Reply | None:
        atlas = self.kb.atlas
        clause = atlas.clauses.get(number) if atlas else None
        if atlas is None or clause is None:
            return None
        self.wait_passively(user, AtlasPrompt.CLAUSE)  # a clause number typed next opens it
        r = Reply().add(heading(self.kb, clause), "b").add("\n\n" + clause.requires)
        if clause.not_applicable:
            r.add("\n\n" + self.text("atlas_not_applicable") + ": " + clause.not_applicable, "i")
        if clause.commune:
            r.add("\n\n" + self.text("atlas_commune") + ": ", "b").add(clause.commune)
        r.add("\n\n" + self.text("sources_label") + f": Khoản {clause.number}, TCVN ISO 9001:2015", "i")
        rows = [[CLAUSE.button(short(f"{c.number} {c.title}", 60), c.number)] for c in atlas.children(number)]
        if clause.maintain or clause.retain:
            rows.append([PART.button(self.text("atlas_btn_documents"), number, "documents")])
        if clause.evidence or clause.findings:
            rows.append([PART.button(self.text("atlas_btn_evidence"), number, "evidence")])
        rows += [
            [nav.ENTRY.button("🔗 " + short(self.kb.entries[e].title), e)]
            for e in ((clause.entry,) if clause.entry else ()) + clause.entries[:2]
            if e in self.kb.entries
        ]
        rows += [
            [nav.GUIDE_STEP.button(short(self.text("guide_button", title=self.kb.guides[g].title), 60), g, 0)]
            for g in clause.guides[:1]
            if g in self.kb.guides
        ]
        up = (
            [CLAUSE.button(self.text("btn_back"), clause.parent)]
            if clause.parent in atlas.clauses
            else [ROOT.button(self.text("btn_back"))]
        )
        rows.append([*up, *home_row(self.ctx)])
        r.buttons = rows
        return r

    @PART
    def part(self, user: User, number: str, part: str) -> Reply | None:
        clause = self.kb.atlas.clauses.get(number) if self.kb.atlas else None
        if clause is None:
            return None
        r = Reply().add(heading(self.kb, clause), "b")
        if part == "documents":
            for key, items in (("atlas_maintain", clause.maintain), ("atlas_retain", clause.retain)):
                if items:
                    r.add("\n\n" + self.text(key) + ":", "b").add("".join(f"\n- {i}" for i in items))
            if not (clause.maintain or clause.retain):
                r.add("\n\n" + self.text("atlas_no_documents"))
        else:
            for key, items in (("atlas_evidence", clause.evidence), ("atlas_findings", clause.findings)):
                if items:
                    r.add("\n\n" + self.text(key) + ":", "b").add("".join(f"\n- {i}" for i in items))
        r.buttons = [[CLAUSE.button(self.text("btn_back"), number), *home_row(self.ctx)]]
        return r
