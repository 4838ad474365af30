"""Self-assessment checklists (knowledge/checklists/*.yaml): loading, the resumable wizard, scores,
gaps, the chart and the report.

Every answer is stored the moment it is given, keyed by run and item, so a restart or a pause of
several days loses nothing. Buttons carry the run id and item number they belong to; a button from
an old or finished run, or from another user, is refused politely.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot import nav
from bot.actions import Action, Choice, Feature, Id, Index, Slug, command, prompt
from bot.home import home_row
from bot.knowledge import Checklist, Item, KnowledgeBase, sources_of
from bot.reply import Attachment, Button, Reply, Section, User, short
from bot.text import fold, local_date, vn_date
from bot.yamlcheck import LINE_KEY, Checker, line_of, load_folder

ANSWERS = {"d": "dat", "p": "mot-phan", "c": "chua-dat", "n": "khong-ap-dung", "s": "bo-qua"}
POINTS = {"dat": 1.0, "mot-phan": 0.5, "chua-dat": 0.0}  # khong-ap-dung and bo-qua are left out
MAX_WEIGHT = 3
PROGRESS_CELLS = 10
GAP_PAGE = 4  # gaps per screen of a result
RESUME_WINDOW = timedelta(hours=2)  # a question asked this soon after a checklist answer offers to go back to it
NOTE_MAX_CHARS = 3000  # a note longer than this is refused with the limit (never cut); the .docx holds it whole
NOTE_SHOWN_CHARS = 400  # of a note, shown under its item


def load_checklists(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/checklists/*.yaml into kb.checklists; check ids, weights, links."""
    for path, file, raw in load_folder(ck, "checklists", "checklist"):
        cid = ck.ident(raw, file, "bảng kiểm")
        w = f"bảng kiểm '{cid}': "
        sections, items, seen = [], [], set()
        for sec in ck.items(raw, "sections", file):
            sid = ck.ident(sec, file, "phần")
            sections.append((sid, ck.string(sec, "title", file, where=w)))
            for it in ck.items(sec, "items", file):
                iid = ck.ident(it, file, "câu")
                iw = f"{w}câu '{iid}': "
                if iid in seen:
                    ck.add(file, it[LINE_KEY], f"{iw}id trùng trong bảng kiểm")
                seen.add(iid)
                weight = it.get("weight")
                if not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
                    ck.add(file, line_of(it, "weight"), f"{iw}weight phải là số nguyên 1–{MAX_WEIGHT}")
                    weight = 1
                sources = sources_of(ck, kb, it, file, iw)
                if not sources:
                    ck.add(file, it[LINE_KEY], f"{iw}thiếu nguồn trích dẫn ('sources')")
                entries = ck.strings(it, "entries", file, where=iw)
                for e in entries:
                    if e not in kb.entries:
                        ck.add(file, line_of(it, "entries"), f"{iw}mục '{e}' không có trong kho hỏi–đáp")
                guide = ck.string(it, "guide", file, required=False)
                if guide and guide not in kb.guides:
                    ck.add(file, line_of(it, "guide"), f"{iw}hướng dẫn '{guide}' không tồn tại")
                question, why, evidence = (ck.string(it, k, file, where=iw) for k in ("question", "why", "evidence"))
                items.append(
                    Item(
                        iid,
                        sid,
                        question,
                        why,
                        evidence,
                        weight,
                        ck.string(it, "action", file, where=iw),
                        sources,
                        entries,
                        guide,
                    )
                )
        if cid and path.stem != cid:
            ck.add(file, raw[LINE_KEY], f"{w}tên tệp phải là {cid}.yaml")
        if not items:
            ck.add(file, raw[LINE_KEY], f"{w}chưa có câu nào")
        kb.checklists[cid] = Checklist(
            cid,
            ck.string(raw, "title", file, where=w),
            ck.string(raw, "description", file, where=w),
            tuple(sections),
            tuple(items),
        )


# ---------------------------------------------------------------------- scoring


@dataclass
class Result:
    """Scores of one run: overall and per section (0–100, None when nothing counts), and the gaps."""

    overall: float | None
    sections: list[tuple[str, float | None]]
    gaps: list[tuple[Item, str]] = field(default_factory=list)  # (item, answer), most important first
    counts: dict[str, int] = field(default_factory=dict)


def score(checklist: Checklist, answers: dict[str, str]) -> Result:
    """Weighted score: Đạt 1, Đạt một phần 0.5, Chưa đạt 0; Không áp dụng and skipped items left out."""

    def pct(items: list[Item]) -> float | None:
        counted = [(i.weight, POINTS[answers[i.id]]) for i in items if answers.get(i.id) in POINTS]
        total = sum(w for w, _ in counted)
        return round(100 * sum(w * p for w, p in counted) / total, 1) if total else None

    sections = [(title, pct([i for i in checklist.items if i.section == sid])) for sid, title in checklist.sections]
    order = {"chua-dat": 0, "mot-phan": 1, "bo-qua": 2, None: 2}
    gaps = [
        (i, answers.get(i.id) or "bo-qua")
        for i in checklist.items
        if answers.get(i.id) in ("chua-dat", "mot-phan", "bo-qua", None)
    ]
    gaps.sort(key=lambda g: (-g[0].weight, order[g[1]]))
    counts = {
        code: sum(1 for i in checklist.items if (answers.get(i.id) or "bo-qua") == code) for code in ANSWERS.values()
    }
    return Result(pct(list(checklist.items)), sections, gaps, counts)


def progress_bar(done: int, total: int) -> str:
    filled = round(PROGRESS_CELLS * done / total) if total else 0
    return "▰" * filled + "▱" * (PROGRESS_CELLS - filled)


def chart_png(kb: KnowledgeBase, checklist: Checklist, result: Result) -> bytes:
    """A horizontal bar chart of the score per section (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [short(t, 34) for t, _ in result.sections]
    values = [v or 0 for _, v in result.sections]
    colors = ["#2e7d32" if v >= 80 else "#f9a825" if v >= 50 else "#c62828" for v in values]
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(labels) + 1.4), dpi=110)
    bars = ax.barh(labels[::-1], values[::-1], color=colors[::-1])
    for bar, (_, v) in zip(bars, result.sections[::-1], strict=True):
        ax.text(
            bar.get_width() + 1,
            bar.get_y() + bar.get_height() / 2,
            kb.text("ck_na_short") if v is None else f"{v:.0f}",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, 105)
    ax.set_xlabel(kb.text("ck_chart_x"))
    overall = "—" if result.overall is None else f"{result.overall:.0f}"
    ax.set_title(kb.text("ck_chart_title", title=checklist.title, score=overall), fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def report_docx(
    kb: KnowledgeBase,
    checklist: Checklist,
    run: dict,
    answers: dict[str, dict],
    result: Result,
    unit_name: str,
    user_name: str,
    previous: float | None,
    day: str = "",
) -> bytes:
    """The run as a Word report: scores, chart, every answer with its note, and the gaps with actions."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    doc.styles["Normal"].font.name = "Times New Roman"
    doc.styles["Normal"].font.size = Pt(12)
    doc.add_heading(kb.text("ck_report_title", title=checklist.title), level=1)
    doc.add_paragraph(
        kb.text("ck_report_meta", unit=unit_name or kb.text("ck_no_unit"), user=user_name, date=day, run=run["id"])
    )
    overall = "—" if result.overall is None else f"{result.overall:.0f}/100"
    doc.add_paragraph(kb.text("ck_report_score", score=overall))
    if previous is not None and result.overall is not None:
        doc.add_paragraph(compare_text(kb, result.overall, previous))
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = kb.text("ck_col_section"), kb.text("ck_col_score")
    for title, value in result.sections:
        row = table.add_row().cells
        row[0].text, row[1].text = title, kb.text("ck_na_short") if value is None else f"{value:.0f}"
    doc.add_picture(io.BytesIO(chart_png(kb, checklist, result)), width=Cm(15))
    doc.add_heading(kb.text("ck_report_gaps"), level=2)
    if not result.gaps:
        doc.add_paragraph(kb.text("ck_no_gaps"))
    for item, ans in result.gaps:
        p = doc.add_paragraph(style="List Number")
        p.add_run(f"{item.question} ").bold = True
        p.add_run(f"[{kb.text('ck_ans_' + ans)}; {kb.text('ck_weight', weight=item.weight)}] ")
        p.add_run(kb.text("ck_action") + ": " + item.action)
    doc.add_heading(kb.text("ck_report_answers"), level=2)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, key in zip(table.rows[0].cells, ("ck_col_item", "ck_col_answer", "ck_col_note"), strict=True):
        cell.text = kb.text(key)
    for item in checklist.items:
        a = answers.get(item.id) or {}
        row = table.add_row().cells
        row[0].text = item.question
        row[1].text = kb.text("ck_ans_" + (a.get("answer") or "bo-qua"))
        row[2].text = a.get("note") or ""
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def compare_text(kb: KnowledgeBase, now: float, before: float) -> str:
    """'tăng 12 điểm so với lần trước' / 'giảm …' / 'bằng lần trước'."""
    diff = round(now - before)
    if diff > 0:
        return kb.text("ck_compare_up", diff=diff, before=round(before))
    if diff < 0:
        return kb.text("ck_compare_down", diff=-diff, before=round(before))
    return kb.text("ck_compare_same", before=round(before))


# ---------------------------------------------------------------------- the wizard

OPEN = Action("co", Slug("checklist"), name="checklist.open")
ANSWER = Action("ca", Id("run"), Index("item"), Choice("answer", *ANSWERS), name="checklist.answer")
GOTO = Action("cg", Id("run"), Index("item"), name="checklist.goto")
NOTE = Action("cn", Id("run"), Index("item"), name="checklist.note")
KEEP_DRAFT = Action("cw", Id("run"), Index("item"), name="checklist.keep-draft")
PAUSE = Action("cp", Id("run"), name="checklist.pause")
RESULTS = Action("cr", Id("run"), name="checklist.results")
GAPS = Action("cq", Id("run"), Index("page"), name="checklist.gaps")
CHART = Action("cc", Id("run"), name="checklist.chart")
REPORT = Action("cd", Id("run"), name="checklist.report")
RESTART = Action("cs", Slug("checklist"), name="checklist.restart")
# typed while a run is current (answered in the last RESUME_WINDOW): the answer to its current item,
# the way officials write them ("dat 1 phan", "ko ap dung", "kad")
TYPED_ANSWERS = {
    **dict.fromkeys(("dat", "da dat", "dat roi"), "d"),
    **dict.fromkeys(("dat mot phan", "dat 1 phan", "mot phan", "1 phan", "dat mp", "dmp"), "p"),
    **dict.fromkeys(("chua dat", "ko dat", "khong dat", "k dat", "kg dat"), "c"),
    **dict.fromkeys(("khong ap dung", "ko ap dung", "k ap dung", "kg ap dung", "kad", "ko ad", "na"), "n"),
    **dict.fromkeys(("bo qua", "skip"), "s"),
}
# typed while a run is current: pause it
PAUSE_WORDS = {"huy", "huy bo", "dung", "dung lai", "tam dung", "thoi", "cancel", "pause"}
# typed while a run is current: show its item again ("lam tiep", the words of «▶️ Làm tiếp»)
RESUME_WORDS = {"tiep", "tiep tuc", "lam tiep", "tiep di"}
# typed instead of tapped while a run is open: show the item again with its buttons
ANSWER_WORDS = {
    "dat",
    "dat mot phan",
    "mot phan",
    "chua dat",
    "khong ap dung",
    "bo qua",
    "co",
    "khong",
    "ok",
    "roi",
    "chua",
    "1",
    "2",
    "3",
    "4",
    "tiep",
    "tiep tuc",
    "tam dung",
}


class ChecklistPrompt(StrEnum):
    NOTE = "ck_note"  # waiting for the note of an item
    DRAFT = "ck_draft"  # text typed mid-run that may be kept as the note ("Lưu làm ghi chú")


class Checklists(Feature):
    """/tudanhgia: the resumable self-assessment wizard, scores, gaps, chart and report."""

    @command("tudanhgia", needs_db=True, shortcut="checklists")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        rows = []
        for run in self.storage.open_runs(user.id):
            cl = self.kb.checklists.get(run["checklist_id"])
            if cl:
                rows.append(
                    [
                        OPEN.button(
                            short(
                                self.text("ck_continue", title=cl.title, n=run["position"] + 1, total=len(cl.items)), 60
                            ),
                            cl.id,
                        )
                    ]
                )
        for cl in self.kb.checklists.values():
            rows.append([OPEN.button(short(f"{cl.title} ({len(cl.items)})", 60), cl.id)])
        for run in self.storage.latest_done_runs(user.id):
            cl = self.kb.checklists.get(run["checklist_id"])
            if cl:
                rows.append(
                    [
                        RESULTS.button(
                            short(
                                self.text(
                                    "ck_btn_last_result",
                                    title=cl.title,
                                    score=round(run["score"] or 0),
                                    day=vn_date(local_date(run["finished"], self.ctx.tz)),
                                ),
                                60,
                            ),
                            run["id"],
                        )
                    ]
                )
        rows.append(home_row(self.ctx))
        text = self.text("ck_intro")
        if not self.storage.unit_of(user.id):
            text += "\n\n" + self.text("ck_no_unit_hint")
        return Reply(buttons=rows, mode=mode).add(text)

    @nav.CHECKLISTS
    def pressed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    def my_work(self, user: User) -> Section | None:
        """Self-assessments started and not finished, for "Việc của tôi"."""
        runs = [
            (r, self.kb.checklists[r["checklist_id"]])
            for r in self.storage.open_runs(user.id)
            if r["checklist_id"] in self.kb.checklists
        ]
        if not runs:
            return None
        section = Section(self.text("mw_checklists"))
        for run, cl in runs[:3]:
            label = self.text("ck_continue", title=cl.title, n=run["position"] + 1, total=len(cl.items))
            section.lines.append(label.removeprefix("▶️ "))
            section.buttons.append([OPEN.button(short(label, 60), cl.id)])
        return section

    @OPEN
    def open(self, user: User, checklist_id: str) -> Reply | None:
        """The open run of this checklist at its current item; when there is none but a finished one,
        ask before starting a new run (a tap on the name should not silently start 28 questions)."""
        cl = self.kb.checklists.get(checklist_id)
        if not cl:
            return None
        done = next((r for r in self.storage.latest_done_runs(user.id) if r["checklist_id"] == cl.id), None)
        if done and not self.storage.open_run(user.id, cl.id):
            day = vn_date(local_date(done["finished"], self.ctx.tz))
            rows = [
                [RESTART.button(self.text("ck_btn_restart"), cl.id)],
                [RESULTS.button(self.text("ck_btn_see_result"), done["id"])],
                [nav.CHECKLISTS.button(self.text("btn_checklists")), *home_row(self.ctx)],
            ]
            text = self.text("ck_restart_ask", title=cl.title, day=day, score=round(done["score"] or 0))
            return Reply(mode="edit", buttons=rows).add(text)
        return self.restart(user, checklist_id)

    @RESTART
    def restart(self, user: User, checklist_id: str) -> Reply | None:
        """Start (or go on with) the run of this checklist."""
        cl = self.kb.checklists.get(checklist_id)
        if not cl:
            return None
        unit = self.storage.unit_of(user.id)
        run = self.storage.start_run(user.id, unit["id"] if unit else None, cl.id)
        return self.item(user, run, run["position"], mode="edit")

    def _run(self, user: User, run_id: int, *, open_only: bool = True) -> dict | None:
        run = self.storage.get_run(run_id)
        if not run or run["user_id"] != user.id or run["checklist_id"] not in self.kb.checklists:
            return None
        if open_only and run["status"] != "open":
            return None
        return run

    def item(self, user: User, run: dict, idx: int, mode: str = "edit") -> Reply:
        cl = self.kb.checklists[run["checklist_id"]]
        idx = max(0, min(idx, len(cl.items) - 1))
        self.storage.set_position(run["id"], idx)
        it = cl.items[idx]
        saved = self.storage.run_answers(run["id"]).get(it.id) or {}
        r = Reply(mode=mode)
        r.add(f"📋 {cl.title}\n", "b")
        r.add(f"{self.text('ck_header', n=idx + 1, total=len(cl.items))} {progress_bar(idx + 1, len(cl.items))}\n")
        r.add(cl.section_title(it.section) + "\n\n", "i")
        r.add(it.question, "b").add("\n\n")
        r.add(f"{self.text('ck_why')}: ", "b").add(it.why + "\n")
        r.add(f"{self.text('ck_evidence')}: ", "b").add(it.evidence)
        if saved.get("answer"):
            r.add("\n\n" + self.text("ck_current", answer=self.text("ck_ans_" + saved["answer"])), "i")
        if saved.get("note"):
            r.add("\n" + self.text("ck_current_note", note=short(saved["note"], NOTE_SHOWN_CHARS)), "i")
        rid = run["id"]
        noted = self._note_target(run, idx, bool(saved.get("answer")))
        r.buttons = [
            [ANSWER.button(self.text("ck_btn_d"), rid, idx, "d"), ANSWER.button(self.text("ck_btn_p"), rid, idx, "p")],
            [ANSWER.button(self.text("ck_btn_c"), rid, idx, "c"), ANSWER.button(self.text("ck_btn_n"), rid, idx, "n")],
            [
                GOTO.button(self.text("btn_back"), rid, max(idx - 1, 0)),
                ANSWER.button(self.text("ck_btn_skip"), rid, idx, "s"),
                NOTE.button(self.text("ck_btn_note_n", n=noted + 1), rid, noted),
            ],
            [PAUSE.button(self.text("ck_btn_pause"), rid)],
        ]
        return r

    def _note_target(self, run: dict, idx: int, answered: bool) -> int:
        """The item «📝 Ghi chú» writes to: the one just answered when the current item has no answer yet
        (answer first, then explain), else the current item."""
        if idx == 0 or answered:
            return idx
        prev = self.kb.checklists[run["checklist_id"]].items[idx - 1]
        return idx - 1 if (self.storage.run_answers(run["id"]).get(prev.id) or {}).get("answer") else idx

    @ANSWER
    def answer(self, user: User, run_id: int, idx: int, code: str) -> Reply | None:
        run = self._run(user, run_id)
        if run is None:
            return self._closed(user, run_id)
        cl = self.kb.checklists[run["checklist_id"]]
        if idx >= len(cl.items):
            return None
        self.storage.save_answer(run["id"], cl.items[idx].id, ANSWERS[code])
        if idx + 1 >= len(cl.items):
            return self.finish(user, run)
        reply = self.item(user, run, idx + 1)
        reply.toast = self.text("ck_saved")
        return reply

    @GOTO
    def goto(self, user: User, run_id: int, idx: int) -> Reply | None:
        run = self._run(user, run_id)
        if run is None:
            return self._closed(user, run_id)
        if idx >= len(self.kb.checklists[run["checklist_id"]].items):
            return None
        return self.item(user, run, idx)

    @NOTE
    def ask_note(self, user: User, run_id: int, idx: int) -> Reply | None:
        run = self._run(user, run_id)
        if run is None:
            return self._closed(user, run_id)
        if idx >= len(self.kb.checklists[run["checklist_id"]].items):
            return None
        self.storage.set_prompt(user.id, ChecklistPrompt.NOTE, {"run": run["id"], "item": idx})
        return Reply(mode="send").add(
            self.text("ck_note_prompt", n=idx + 1, limit=f"{NOTE_MAX_CHARS:,}".replace(",", "."))
        )

    @prompt(ChecklistPrompt.NOTE)
    def note_typed(self, user: User, data: dict, text: str) -> Reply:
        """The user's text after 'Ghi chú': store it on the item, then show the current item again."""
        self.storage.clear_prompt(user.id)
        return self.save_note(user, data.get("run"), data.get("item"), text)

    def save_note(self, user: User, run_id: object, idx: object, text: str) -> Reply:
        """Store the note whole on its item and go on with the run's current item. A note over
        NOTE_MAX_CHARS is refused with the limit, never cut; the prompt waits for a shorter one."""
        run = self._run(user, run_id) if isinstance(run_id, int) else None
        if run is None or not isinstance(idx, int):
            return self.stale_run()
        cl = self.kb.checklists[run["checklist_id"]]
        i = min(idx, len(cl.items) - 1)
        note = text.strip()
        if len(note) > NOTE_MAX_CHARS:
            self.storage.set_prompt(user.id, ChecklistPrompt.NOTE, {"run": run["id"], "item": i})
            limit = f"{NOTE_MAX_CHARS:,}".replace(",", ".")
            return Reply().add(
                self.text("ck_note_too_long", n=f"{len(note):,}".replace(",", "."), limit=limit, item=i + 1)
            )
        self.storage.save_answer(run["id"], cl.items[i].id, note=note)
        return self.item(user, run, run["position"], mode="send").prepend(self.text("ck_note_saved_n", n=i + 1))

    @prompt(ChecklistPrompt.DRAFT)
    def draft_dropped(self, user: User, data: dict, text: str) -> None:
        """A newer message replaces the draft: nothing to answer here, the text is handled as usual."""
        return None

    def current_run(self, user: User) -> dict | None:
        """The open run the user answered (or started) in the last RESUME_WINDOW, touched last."""
        since = (datetime.now(UTC) - RESUME_WINDOW).isoformat(timespec="seconds")
        return self.storage.recent_open_run(user.id, since)

    def intercept(self, user: User, folded: str) -> Reply | None:
        """Words typed while a run is current: an answer ("đạt", "dat 1 phan", "kad") answers its item,
        "huỷ"/"dừng" pause it, "làm tiếp" shows its item; "ok", "1"… while a run is open: the item
        again, with its buttons."""
        run = self.current_run(user) if folded in TYPED_ANSWERS or folded in PAUSE_WORDS | RESUME_WORDS else None
        if run is not None:
            if folded in PAUSE_WORDS:
                paused = self.pause(user, run["id"])
                if paused is not None:
                    paused.mode = "send"
                return paused
            if folded in RESUME_WORDS:
                return self.item(user, run, run["position"], mode="send")
            reply = self.answer(user, run["id"], run["position"], TYPED_ANSWERS[folded])
            if reply is not None:
                reply.mode = "send"
                reply.prepend(self.text("ck_saved_typed", n=run["position"] + 1))
            return reply
        if folded not in ANSWER_WORDS and folded not in TYPED_ANSWERS:
            return None
        runs = self.storage.open_runs(user.id)
        if not runs:
            return None
        return self.item(user, runs[-1], runs[-1]["position"], mode="send").prepend(self.say(user, "ck_use_buttons"))

    def offer_note(self, user: User, text: str, reply: Reply) -> None:
        """Free text the search was unsure about while a checklist is open: keep it as a draft and offer
        a button that saves it as a note, so nothing typed is lost: the note of the item «📝 Ghi chú» would
        write to (the one just answered, when the current one has no answer yet: "thieu bien ban" typed
        right after «Đạt một phần» explains that answer)."""
        runs = self.storage.open_runs(user.id)
        if not runs:
            return
        run = runs[-1]
        items = self.kb.checklists[run["checklist_id"]].items
        at = min(run["position"], len(items) - 1)
        saved = self.storage.run_answers(run["id"]).get(items[at].id) or {}
        idx = self._note_target(run, at, bool(saved.get("answer")))  # as «📝 Ghi chú»: the item just answered
        self.storage.set_prompt(user.id, ChecklistPrompt.DRAFT, {"run": run["id"], "item": idx, "text": text.strip()})
        reply.prepend(self.say(user, "ck_draft_hint", n=idx + 1))
        reply.buttons.insert(0, [KEEP_DRAFT.button(self.text("ck_btn_keep_note", n=idx + 1), run["id"], idx)])
        reply.aside = True

    def reads_as_question(self, text: str) -> bool:
        """ "?" or a question word ("gì", "không", "sao", "nào", "bao"…): typed mid-checklist, a question;
        without one ("thieu bien ban"), it may be a note and is offered as one even when answered."""
        return "?" in text or bool(re.search(self.text("ck_question_cues"), fold(text)))

    def offer_resume(self, user: User, reply: Reply) -> None:
        """A question asked (or a notice read) in the middle of a checklist: the reply gets a «Làm tiếp»
        button back to the question the user was at."""
        button = self.resume_button(user)
        if button is None:
            return
        reply.buttons.append([button])
        reply.aside = True  # the checklist's numbers stay in force beside the answer

    def resume_button(self, user: User) -> Button | None:
        """«▶️ Làm tiếp: <checklist> (câu n/N)» for the run in progress, None without one."""
        run = self.current_run(user)
        cl = self.kb.checklists.get(run["checklist_id"]) if run else None
        if run is None or cl is None:
            return None
        label = self.text("ck_continue", title=cl.title, n=run["position"] + 1, total=len(cl.items))
        return OPEN.button(short(label, 60), cl.id)

    @KEEP_DRAFT
    def keep_draft(self, user: User, run_id: int, idx: int) -> Reply | None:
        """'Lưu làm ghi chú': save the draft kept by :meth:`offer_note` if it is still the latest text."""
        pending = self.storage.get_prompt(user.id)
        if (
            not pending
            or pending[0] != ChecklistPrompt.DRAFT
            or (pending[1].get("run"), pending[1].get("item")) != (run_id, idx)
        ):
            if self._run(user, run_id) is None:
                return self._closed(user, run_id)
            return Reply().add(self.say(user, "ck_draft_gone"))
        self.storage.clear_prompt(user.id)
        return self.save_note(user, run_id, idx, str(pending[1].get("text") or ""))

    @nav.CHECKLIST_RESULTS
    def results_list(self, user: User) -> Reply:
        """«📊 Kết quả tự đánh giá» (/toi): the latest finished run of each checklist, to open its result."""
        rows = []
        for run in self.storage.latest_done_runs(user.id):
            cl = self.kb.checklists.get(run["checklist_id"])
            if cl:
                day = vn_date(local_date(run["finished"], self.ctx.tz))
                label = self.text("ck_btn_last_result", title=cl.title, score=round(run["score"] or 0), day=day)
                rows.append([RESULTS.button(short(label, 60), run["id"])])
        text = self.text("ck_results_intro" if rows else "ck_results_none")
        rows.append([nav.CHECKLISTS.button(self.text("btn_checklists")), *home_row(self.ctx)])
        return Reply(mode="edit", buttons=rows).add(text)

    @PAUSE
    def pause(self, user: User, run_id: int) -> Reply | None:
        run = self._run(user, run_id)
        if run is None:
            return self._closed(user, run_id)
        cl = self.kb.checklists[run["checklist_id"]]
        return Reply(mode="edit", buttons=[[OPEN.button(self.text("ck_btn_resume"), cl.id)], home_row(self.ctx)]).add(
            self.say(user, "ck_paused", n=run["position"] + 1, total=len(cl.items))
        )

    def finish(self, user: User, run: dict) -> Reply:
        result = self.result_of(run)
        self.storage.finish_run(run["id"], result.overall if result.overall is not None else 0.0)
        return self.results(user, run["id"], mode="edit")

    def result_of(self, run: dict) -> Result:
        cl = self.kb.checklists[run["checklist_id"]]
        answers = {k: v["answer"] for k, v in self.storage.run_answers(run["id"]).items()}
        return score(cl, answers)

    @RESULTS
    def results(self, user: User, run_id: int, mode: str = "send") -> Reply | None:
        """The result of a finished run: scores, what changed since the unit's previous run (and which
        tasks closed those gaps), then the first gaps with their tasks; reopened any time from
        /tudanhgia, /toi and "Việc của tôi"."""
        run = self._run(user, run_id, open_only=False)
        if run is None or run["status"] != "done":
            return None
        cl = self.kb.checklists[run["checklist_id"]]
        result = self.result_of(run)
        r = Reply(mode=mode)
        overall = "—" if result.overall is None else f"{result.overall:.0f}"
        r.add(self.text("ck_done_title", title=cl.title) + "\n", "b")
        r.add(self.text("ck_done_score", score=overall))
        prev = self.storage.previous_run(run["unit_id"], user.id, cl.id, run["id"])
        if prev and prev["score"] is not None and result.overall is not None:
            r.add(" — " + compare_text(self.kb, result.overall, prev["score"]))
        r.add("\n\n")
        for title, value in result.sections:
            r.add(f"• {title}: {self.text('ck_na_short') if value is None else f'{value:.0f}'}\n")
        if prev:
            self._closed_since(r, run, prev, cl)
        if result.gaps:
            r.add("\n" + self.text("ck_gaps_title", n=len(result.gaps)) + "\n", "b")
        else:
            r.add(self.text("ck_no_gaps"))
        rows = self._gap_lines(r, run, cl, result, 0)
        if run["unit_id"] and not run.get("confirmed") and self.storage.membership(user.id) == "pending":
            r.add("\n" + self.text("ck_unconfirmed"), "i")
        rows.append(
            [CHART.button(self.text("ck_btn_chart"), run["id"]), REPORT.button(self.text("ck_btn_report"), run["id"])]
        )
        guide = next((i.guide for i, _ in result.gaps if i.guide in self.kb.guides), "")
        if guide:
            rows.append(
                [
                    nav.GUIDE_STEP.button(
                        short(self.text("guide_button", title=self.kb.guides[guide].title), 60), guide, 0
                    )
                ]
            )
        rows.append([nav.CHECKLISTS.button(self.text("btn_checklists")), *home_row(self.ctx)])
        r.buttons = rows
        return r

    @GAPS
    def gaps(self, user: User, run_id: int, page: int) -> Reply | None:
        """Every gap of a run, GAP_PAGE at a time, each with its task or «➕ Tạo việc»."""
        run = self._run(user, run_id, open_only=False)
        if run is None or run["status"] != "done":
            return None
        cl = self.kb.checklists[run["checklist_id"]]
        result = self.result_of(run)
        if page * GAP_PAGE >= max(len(result.gaps), 1):
            return None
        r = Reply(mode="edit").add(self.text("ck_gaps_page", title=cl.title, n=len(result.gaps)) + "\n", "b")
        rows = self._gap_lines(r, run, cl, result, page)
        rows.append([RESULTS.button(self.text("ck_btn_back_result"), run["id"]), *home_row(self.ctx)])
        r.buttons = rows
        return r

    def _gap_lines(self, r: Reply, run: dict, cl: Checklist, result: Result, page: int) -> list:
        """Gaps of one page into ``r``; returns their buttons (tasks, «Tạo việc», the next page)."""
        rows, today = [], self.ctx.today().isoformat()
        first = page * GAP_PAGE
        for n, (item, ans) in enumerate(result.gaps[first : first + GAP_PAGE], first + 1):
            r.add(f"{n}. {short(item.question, 100)} ", "b").add(f"({self.text('ck_ans_' + ans)})\n")
            task = self.storage.task_for_item(run["unit_id"], cl.id, item.id) if run["unit_id"] else None
            if task and task["status"] in ("open", "done"):
                key = (
                    "ck_gap_task_done"
                    if task["status"] == "done"
                    else "ck_gap_task_late"
                    if task["due"] < today
                    else "ck_gap_task_open"
                )
                owner = (self.storage.get_user(task["owner_id"]) or {}).get("first_name") or "…"
                r.add("   " + self.text(key, id=task["id"], who=owner, due=vn_date(task["due"])) + "\n", "i")
                rows.append([nav.TASK.button(short(self.text("ck_btn_task", id=task["id"], n=n)), task["id"])])
            else:
                r.add(f"→ {short(item.action, 160)}\n")
                if run["unit_id"] and ans in ("chua-dat", "mot-phan"):
                    rows.append(
                        [nav.TASK_FROM_GAP.button(self.text("ck_btn_new_task", n=n), run["id"], cl.items.index(item))]
                    )
        if first + GAP_PAGE < len(result.gaps):
            rows.append(
                [
                    GAPS.button(
                        self.text(
                            "ck_btn_more_gaps", a=first + GAP_PAGE + 1, b=min(first + 2 * GAP_PAGE, len(result.gaps))
                        ),
                        run["id"],
                        page + 1,
                    )
                ]
            )
        return rows

    def _closed_since(self, r: Reply, run: dict, prev: dict, cl: Checklist) -> None:
        """The gaps of the unit's previous run that this run no longer has, with the task that closed each."""
        before = {k: v.get("answer") for k, v in self.storage.run_answers(prev["id"]).items()}
        now = {k: v.get("answer") for k, v in self.storage.run_answers(run["id"]).items()}
        fixed = [i for i in cl.items if before.get(i.id) in ("chua-dat", "mot-phan") and now.get(i.id) == "dat"]
        if not fixed:
            return
        r.add(
            "\n"
            + self.text("ck_fixed_title", n=len(fixed), day=vn_date(local_date(prev["finished"], self.ctx.tz)))
            + "\n",
            "b",
        )
        for item in fixed[:5]:
            task = self.storage.task_for_item(run["unit_id"], cl.id, item.id) if run["unit_id"] else None
            by = ""
            if task and task["status"] == "done":
                owner = (self.storage.get_user(task["owner_id"]) or {}).get("first_name") or "…"
                by = " — " + self.text(
                    "ck_fixed_by", id=task["id"], who=owner, day=vn_date(local_date(task["closed"], self.ctx.tz))
                )
            r.add(f"✅ {short(item.question, 90)}{by}\n")

    @CHART
    def chart(self, user: User, run_id: int) -> Reply | None:
        run = self._run(user, run_id, open_only=False)
        if run is None or run["status"] != "done":
            return None
        cl = self.kb.checklists[run["checklist_id"]]
        png = chart_png(self.kb, cl, self.result_of(run))
        caption = self.text("ck_chart_caption", title=cl.title)
        return Reply(attachment=Attachment(f"bieu-do-{run['id']}.png", png, caption, kind="photo")).add(caption)

    @REPORT
    def report(self, user: User, run_id: int) -> Reply | None:
        run = self._run(user, run_id, open_only=False)
        if run is None or run["status"] != "done":
            return None
        data, name = self.report_bytes(run, user.first_name)
        caption = self.text("ck_report_caption")
        return Reply(attachment=Attachment(name, data, caption)).add(caption)

    def report_bytes(self, run: dict, user_name: str = "") -> tuple[bytes, str]:
        """The .docx report of a finished run and its file name (also used by the CLI)."""
        cl = self.kb.checklists[run["checklist_id"]]
        unit = self.storage.get_unit(run["unit_id"])
        prev = self.storage.previous_run(run["unit_id"], run["user_id"], cl.id, run["id"])
        day = vn_date(local_date(run.get("finished") or run.get("started"), self.ctx.tz))
        data = report_docx(
            self.kb,
            cl,
            run,
            self.storage.run_answers(run["id"]),
            self.result_of(run),
            unit["name"] if unit else "",
            user_name,
            prev["score"] if prev else None,
            day,
        )
        return data, f"tu-danh-gia-{cl.id}-{run['id']}.docx"

    def stale_run(self) -> Reply:
        return Reply(buttons=[[nav.CHECKLISTS.button(self.text("btn_checklists"))]]).add(self.text("ck_run_closed"))

    def _closed(self, user: User, run_id: int) -> Reply | None:
        """A button from a finished run of this user gets a specific message; anything else is stale."""
        run = self.storage.get_run(run_id)
        if run and run["user_id"] == user.id and run["status"] == "done":
            reply = self.stale_run()
            reply.toast = self.text("ck_run_closed")
            return reply
        return None
