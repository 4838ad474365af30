"""Unit progress for the inspection team: table rows, filters, a score chart, .xlsx and CSV exports."""

from __future__ import annotations

import csv
import io

from bot.actions import Action, Choice, Feature, command
from bot.home import home_row
from bot.knowledge import KnowledgeBase
from bot.reply import Attachment, Reply, User
from bot.text import safe_cell

FILTERS = ("all", "not-started", "below", "province")
LOW_SCORE = 50
SHOWN_ROWS = 12


def rows(storage, kb: KnowledgeBase, flt: str = "all", province_code: int | None = None,
         below: float = LOW_SCORE) -> list[dict]:
    """Per unit: members, last activity, finished checklists with latest scores, open gaps, quiz figures."""
    out = []
    for u in storage.unit_progress():
        latest = u["checklists"]
        scores = [s for _, s in latest.values() if s is not None]
        gaps = 0
        for cid, (run_id, _) in latest.items():
            cl = kb.checklists.get(cid)
            if cl:
                answers = storage.run_answers(run_id)
                gaps += sum(1 for i in cl.items if (answers.get(i.id) or {}).get("answer") in ("chua-dat", "mot-phan"))
        row = {
            "unit": u["name"], "province": u["province_name"], "members": u["members"], "pending": u["pending"],
            "unconfirmed_runs": u["unconfirmed_runs"],
            "last_activity": (u["last_activity"] or "")[:10], "checklists_done": len(latest),
            "latest_score": round(min(scores), 1) if scores else None, "open_gaps": gaps,
            "quiz_takers": u["quiz_takers"], "quiz_avg": round(u["quiz_avg"], 1) if u["quiz_avg"] is not None else None,
            "province_code": u["province_code"],
            **{f"score:{cid}": (latest[cid][1] if cid in latest else None) for cid in kb.checklists},
        }
        if flt == "not-started" and latest:
            continue
        if flt == "below" and (row["latest_score"] is None or row["latest_score"] >= below):
            continue
        if flt == "province" and province_code is not None and u["province_code"] != province_code:
            continue
        out.append(row)
    return out


def columns(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(key, Vietnamese header) of the export columns."""
    base = [("unit", kb.text("pg_col_unit")), ("province", kb.text("pg_col_province")),
            ("members", kb.text("pg_col_members")), ("pending", kb.text("pg_col_pending")),
            ("last_activity", kb.text("pg_col_last")),
            ("checklists_done", kb.text("pg_col_done")), ("latest_score", kb.text("pg_col_score")),
            ("open_gaps", kb.text("pg_col_gaps")), ("unconfirmed_runs", kb.text("pg_col_unconfirmed")), ("quiz_takers", kb.text("pg_col_quiz_takers")),
            ("quiz_avg", kb.text("pg_col_quiz_avg"))]
    return base + [(f"score:{cid}", cl.title) for cid, cl in kb.checklists.items()]


def to_csv(kb: KnowledgeBase, data: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = columns(kb)
    w.writerow([h for _, h in cols])
    for r in data:
        w.writerow(["" if r.get(k) is None else safe_cell(r.get(k)) for k, _ in cols])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")   # BOM: Excel opens Vietnamese CSV correctly


def to_xlsx(kb: KnowledgeBase, data: list[dict]) -> bytes:
    """The table as an Excel workbook (openpyxl) with a header row, frozen panes and column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = kb.text("pg_sheet")
    cols = columns(kb)
    ws.append([h for _, h in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in data:
        ws.append([safe_cell(r.get(k)) for k, _ in cols])
    ws.freeze_panes = "B2"
    for i, (_, h) in enumerate(cols, 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, min(40, len(h) + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def chart_png(kb: KnowledgeBase, data: list[dict]) -> bytes:
    """Histogram of the units' latest checklist scores, plus a bar for units not started."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = ["0–49", "50–69", "70–84", "85–100"]
    counts = [0, 0, 0, 0]
    not_started = 0
    for r in data:
        s = r["latest_score"]
        if s is None:
            not_started += 1
        else:
            counts[0 if s < 50 else 1 if s < 70 else 2 if s < 85 else 3] += 1
    labels = [kb.text("pg_not_started")] + bins
    values = [not_started] + counts
    fig, ax = plt.subplots(figsize=(6.5, 3.6), dpi=110)
    bars = ax.bar(labels, values, color=["#9e9e9e", "#c62828", "#f9a825", "#7cb342", "#2e7d32"])
    for bar, v in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.05, str(v), ha="center", fontsize=9)
    ax.set_ylabel(kb.text("pg_chart_y"))
    ax.set_title(kb.text("pg_chart_title", n=len(data)), fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------------- screens (inspectors)

FILTER = Choice("filter", *FILTERS)
SHOW = Action("pg", FILTER, role="inspector", name="progress.filter")
CHART = Action("pc", FILTER, role="inspector", name="progress.chart")
XLSX = Action("px", FILTER, role="inspector", name="progress.xlsx")
CSV = Action("pv", FILTER, role="inspector", name="progress.csv")


class Progress(Feature):
    """/tiendo: every unit's progress, filterable, with a chart and .xlsx / .csv exports."""

    @command("tiendo", role="inspector", needs_db=True, advertised=False, shortcut="progress")
    def home(self, user: User, arg: str = "", flt: str = "all", mode: str = "send") -> Reply:
        data = self._rows(user, flt)
        r = Reply(mode=mode).add(self.text("pg_title", n=len(data), filter=self.text(f"pg_f_{flt}")) + "\n", "b")
        for row in data[:SHOWN_ROWS]:
            score = "—" if row["latest_score"] is None else f"{row['latest_score']:.0f}"
            pending = " " + self.text("pg_pending", n=row["pending"]) if row["pending"] else ""
            r.add("\n• " + self.text("pg_row", unit=row["unit"], province=row["province"], members=row["members"],
                                     pending=pending, done=row["checklists_done"], score=score, gaps=row["open_gaps"],
                                     takers=row["quiz_takers"]))
            if row["unconfirmed_runs"]:
                r.add(" · " + self.text("pg_unconfirmed", n=row["unconfirmed_runs"]), "i")
        if len(data) > SHOWN_ROWS:
            r.add("\n" + self.text("pg_more", n=len(data) - SHOWN_ROWS), "i")
        if not data:
            r.add(self.text("pg_none"))
        r.buttons = [[SHOW.button(self.text(f"pg_f_{f}"), f) for f in FILTERS[:2]],
                     [SHOW.button(self.text(f"pg_f_{f}"), f) for f in FILTERS[2:]],
                     [CHART.button(self.text("pg_btn_chart"), flt), XLSX.button(self.text("pg_btn_xlsx"), flt),
                      CSV.button(self.text("pg_btn_csv"), flt)],
                     home_row(self.ctx)]
        return r

    def _rows(self, user: User, flt: str) -> list[dict]:
        unit = self.storage.unit_of(user.id)
        province = unit["province_code"] if unit else (self.ctx.province.code if self.ctx.province else None)
        return rows(self.storage, self.kb, flt, province)

    @SHOW
    def filtered(self, user: User, flt: str) -> Reply:
        return self.home(user, flt=flt, mode="edit")

    def _file(self, user: User, flt: str, kind: str) -> Reply:
        data = self._rows(user, flt)
        caption = self.text("pg_caption")
        stamp = self.ctx.today().isoformat()
        if kind == "png":
            file = Attachment(f"tien-do-{stamp}.png", chart_png(self.kb, data), caption, "photo")
        elif kind == "xlsx":
            file = Attachment(f"tien-do-{stamp}.xlsx", to_xlsx(self.kb, data), caption)
        else:
            file = Attachment(f"tien-do-{stamp}.csv", to_csv(self.kb, data), caption)
        return Reply(attachment=file).add(caption)

    @CHART
    def chart(self, user: User, flt: str) -> Reply:
        return self._file(user, flt, "png")

    @XLSX
    def xlsx(self, user: User, flt: str) -> Reply:
        return self._file(user, flt, "xlsx")

    @CSV
    def csv_file(self, user: User, flt: str) -> Reply:
        return self._file(user, flt, "csv")
