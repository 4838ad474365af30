"""The readiness pack: before an inspection, one .docx per unit that lays the unit's own records over
the points the provincial team checks (knowledge/readiness.yaml): for each point its legal basis,
the unit's latest self-assessment answers and notes on the items that cover it, the tasks opened
for them and their evidence; then every open task and the latest scores. Inspectors make it for any
unit from /tiendo; a unit's members for their own unit from "Việc của đơn vị".
"""

from __future__ import annotations

import io

from bot import nav
from bot.actions import Feature
from bot.knowledge import KnowledgeBase, Point, sources_of
from bot.reply import Attachment, Button, Reply, User
from bot.text import local_date, vn_date
from bot.yamlcheck import LINE_KEY, Checker, line_of, load_file

MARK = {"dat": "✅", "mot-phan": "⚠️", "chua-dat": "❌", "khong-ap-dung": "—", "bo-qua": "?"}


def load_readiness(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/readiness.yaml into kb.readiness; every item must exist in a checklist."""
    if not (kb.root / "readiness.yaml").is_file():
        return
    points = []
    for _, file, raw in load_file(ck, "readiness.yaml", "points", many=True):
        pid = ck.ident(raw, file, "điểm kiểm tra")
        w = f"điểm '{pid}': "
        items = ck.strings(raw, "items", file, where=w)
        for item in items:
            cid, _, iid = item.partition("/")
            cl = kb.checklists.get(cid)
            if cl is None or not any(i.id == iid for i in cl.items):
                ck.add(file, line_of(raw, "items"), f"{w}câu bảng kiểm '{item}' không có (dạng bang-kiem/cau)")
        sources = sources_of(ck, kb, raw, file, w)
        if not sources:
            ck.add(file, raw[LINE_KEY], f"{w}thiếu nguồn ('sources')")
        points.append(
            Point(pid, ck.string(raw, "title", file, where=w), ck.string(raw, "checks", file, where=w), sources, items)
        )
    kb.readiness = points


class Readiness(Feature):
    """«📄 Hồ sơ sẵn sàng đón kiểm tra» for a unit."""

    def button(self, unit_id: int) -> Button:
        return nav.READINESS.button(self.text("rp_btn"), unit_id)

    @nav.READINESS
    def pack(self, user: User, unit_id: int) -> Reply | None:
        unit = self.storage.get_unit(unit_id)
        mine = self.storage.unit_of(user.id)
        if unit is None or not ((mine and mine["id"] == unit_id) or self.ctx.roles.role_of(user) != "official"):
            return None
        caption = self.text("rp_caption", unit=unit["name"])
        name = f"ho-so-san-sang-{unit_id}-{self.ctx.today().isoformat()}.docx"
        return Reply(attachment=Attachment(name, self.docx(unit), caption)).add(caption)

    def latest_runs(self, unit_id: int) -> dict[str, dict]:
        """checklist id → the unit's latest finished run, a confirmed one when there is one."""
        out: dict[str, dict] = {}
        for run in self.storage.unit_runs(unit_id):  # newest first
            current = out.get(run["checklist_id"])
            if current is None or (run["confirmed"] and not current["confirmed"]):
                out[run["checklist_id"]] = run
        return out

    def docx(self, unit: dict) -> bytes:
        from docx import Document
        from docx.shared import Cm, Pt

        kb, tz = self.kb, self.ctx.tz
        doc = Document()
        doc.styles["Normal"].font.name = "Times New Roman"
        doc.styles["Normal"].font.size = Pt(12)
        doc.add_heading(kb.text("rp_title", unit=unit["name"]), level=1)
        doc.add_paragraph(kb.text("rp_meta", province=unit["province_name"], day=vn_date(self.ctx.today())))
        runs = self.latest_runs(unit["id"])
        answers = {cid: self.storage.run_answers(run["id"]) for cid, run in runs.items()}
        tasks = self.storage.tasks(unit=unit["id"], status=None)
        by_item = {(t["checklist_id"], t["item_id"]): t for t in reversed(tasks) if t["item_id"]}
        for n, point in enumerate(kb.readiness, 1):
            doc.add_heading(f"{n}. {point.title}", level=2)
            doc.add_paragraph(kb.text("rp_checks", checks=point.checks))
            doc.add_paragraph().add_run(
                kb.text("rp_basis", basis="; ".join(str(s) for s in point.sources))
            ).italic = True
            table = doc.add_table(rows=1, cols=3)
            table.style = "Table Grid"
            for cell, key in zip(table.rows[0].cells, ("rp_col_item", "rp_col_answer", "rp_col_task"), strict=True):
                cell.text = kb.text(key)
            for ref in point.items:
                cid, _, iid = ref.partition("/")
                item = next(i for i in kb.checklists[cid].items if i.id == iid)
                a = (answers.get(cid) or {}).get(iid) or {}
                row = table.add_row().cells
                row[0].text = item.question
                if cid in runs:
                    run = runs[cid]
                    label = kb.text("ck_ans_" + (a.get("answer") or "bo-qua"))
                    unconfirmed = "" if run["confirmed"] else ", " + kb.text("pg_unconfirmed_short")
                    row[1].text = (
                        f"{MARK.get(a.get('answer') or 'bo-qua', '')} {label} "
                        f"({vn_date(local_date(run['finished'], tz))}{unconfirmed})"
                    )
                    if a.get("note"):
                        row[1].text += "\n" + kb.text("rp_note", note=a["note"])
                else:
                    row[1].text = kb.text("rp_no_run")
                task = by_item.get((cid, iid))
                row[2].text = self._task_text(task) if task else ""
        doc.add_heading(kb.text("rp_tasks"), level=2)
        open_tasks = [t for t in tasks if t["status"] == "open"]
        if not open_tasks:
            doc.add_paragraph(kb.text("rp_no_tasks"))
        for t in open_tasks:
            doc.add_paragraph(self._task_text(t), style="List Bullet")
        done = [t for t in tasks if t["status"] == "done"]
        if done:
            doc.add_heading(kb.text("rp_done"), level=2)
        for t in done:
            doc.add_paragraph(self._task_text(t), style="List Bullet")
            for ev in self.storage.evidence_of(t["id"]):
                full = self.storage.get_evidence(ev["id"])
                if ev["kind"] == "photo" and full and full["data"]:
                    try:
                        doc.add_picture(io.BytesIO(full["data"]), width=Cm(8))
                    except Exception:  # noqa: BLE001 - a photo python-docx cannot read is listed, not fatal
                        doc.add_paragraph(kb.text("rp_evidence", name=ev["name"] or ev["kind"]))
                else:
                    doc.add_paragraph(kb.text("rp_evidence", name=ev["name"] or ev["kind"]))
        doc.add_heading(kb.text("rp_scores"), level=2)
        for cid, run in runs.items():
            cl = kb.checklists.get(cid)
            if cl:
                doc.add_paragraph(
                    kb.text(
                        "rp_score_line",
                        title=cl.title,
                        score=round(run["score"] or 0),
                        day=vn_date(local_date(run["finished"], tz)),
                    ),
                    style="List Bullet",
                )
        if not runs:
            doc.add_paragraph(kb.text("rp_no_run"))
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()

    def _task_text(self, t: dict) -> str:
        state = {
            "open": self.text("rp_task_open"),
            "done": self.text("rp_task_done"),
            "dropped": self.text("rp_task_dropped"),
        }.get(t["status"], t["status"])
        text = self.text(
            "rp_task", id=t["id"], what=t["what"], who=t.get("owner_name") or "…", due=vn_date(t["due"]), state=state
        )
        if t["status"] == "done" and t["note"]:
            text += " — " + t["note"]
        return text
