"""The inspection team's view of every unit: /tiendo, one unit's drill-down, exports, the weekly digest.

The list is the province's communes and wards from the official list (vietnam-provinces), not only
those that registered, each with its state: never registered; registered without a self-assessment;
the latest confirmed self-assessment (date and score) with open and overdue tasks. Laggards come
first. Agencies (the inspectors' own office among them) are not communes: they are counted apart.
Without a configured province the list is the registered units.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import nav
from bot.actions import Action, Choice, Feature, Id, Index, command
from bot.home import home_row
from bot.knowledge import KnowledgeBase
from bot.reply import Attachment, Reply, User, short
from bot.text import local_date, safe_cell, vn_date

if TYPE_CHECKING:
    from bot.units import Place

FILTERS = ("all", "active", "silent", "unregistered", "not-started", "below", "overdue", "agencies")
LOW_SCORE = 50
PAGE = 8  # units per screen
ATTENTION = 4  # units needing attention on /tiendo's first screen
SILENT_DAYS = 30  # a registered unit nobody used for this long is "im lặng"; used since then, "đang hoạt động"
RANK = {"unregistered": 0, "no-run": 1, "done": 2}


def rows(
    storage,
    kb: KnowledgeBase,
    flt: str = "all",
    province_code: int | None = None,
    *,
    tz=None,
    today=None,
    team: frozenset[int] = frozenset(),
) -> list[dict]:
    """One row per commune/ward of the province (or per registered one without a province), laggards
    first, then the agencies that registered, less the inspection team's own office (the units of
    the people in ``team``)."""
    from bot import units  # the official list is loaded only where a screen shows units

    today_iso = today.isoformat() if today else ""
    registered = storage.unit_progress(today_iso)
    offices = {storage.get_user(p)["unit_id"] for p in team if storage.get_user(p)}
    by_ward = {u["ward_code"]: u for u in registered if u["ward_code"]}
    pairs: list[tuple[units.Place | None, dict | None]]
    if province_code is not None:
        pairs = [(p, by_ward.get(p.code)) for p in units.wards().values() if p.province_code == province_code]
    else:
        pairs = [(None, u) for u in registered if u["ward_code"]]
    agencies = [
        u
        for u in registered
        if not u["ward_code"]
        and u["id"] not in offices
        and (province_code is None or u["province_code"] == province_code)
    ]
    out = [_row(storage, kb, place, u, tz) for place, u in pairs]
    out.sort(
        key=lambda r: (
            RANK[r["status"]],
            -r["overdue_tasks"],
            r["latest_score"] if r["latest_score"] is not None else -1,
            r["unit"],
        )
    )
    out += sorted((_row(storage, kb, None, u, tz) for u in agencies), key=lambda r: (RANK[r["status"]], r["unit"]))
    since = (today - timedelta(days=SILENT_DAYS)).isoformat() if today else ""
    for r in out:
        r["active"] = r["status"] != "unregistered" and (r["seen"] or "") >= since
    return [r for r in out if kept(r, flt)]


def needs_attention(data: list[dict]) -> list[dict]:
    """Registered communes and wards to look at first: overdue tasks, then a score under 50, then silent
    for SILENT_DAYS days, then no self-assessment yet (those never registered are only counted)."""

    def reason(r: dict) -> int | None:
        for n, flt in enumerate(("overdue", "below", "silent", "not-started")):
            if kept(r, flt):
                return n
        return None

    found = [(reason(r), i, r) for i, r in enumerate(data) if not r["agency"] and r["status"] != "unregistered"]
    return [r for n, _, r in sorted((x for x in found if x[0] is not None), key=lambda x: (x[0], x[1]))]


def kept(row: dict, flt: str) -> bool:
    """Whether a row passes one of the FILTERS."""
    if flt == "unregistered":
        return row["status"] == "unregistered"
    if flt == "not-started":
        return row["status"] == "no-run"
    if flt == "below":
        return row["latest_score"] is not None and row["latest_score"] < LOW_SCORE
    if flt == "overdue":
        return row["overdue_tasks"] > 0
    if flt == "agencies":
        return row["agency"]
    if flt == "active":
        return row.get("active", False)
    if flt == "silent":
        return row["status"] != "unregistered" and not row.get("active", False)
    return True


def _row(storage, kb: KnowledgeBase, place: Place | None, u: dict | None, tz) -> dict:
    latest = (u or {}).get("checklists") or {}
    scores = [s for _, s in latest.values() if s is not None]
    gaps = 0
    for cid, (run_id, _) in latest.items():
        cl = kb.checklists.get(cid)
        if cl:
            answers = storage.run_answers(run_id)
            gaps += sum(1 for i in cl.items if (answers.get(i.id) or {}).get("answer") in ("chua-dat", "mot-phan"))
    registered = u is not None and (u["members"] or u["pending"])
    status = "done" if latest else "no-run" if registered else "unregistered"
    if place is not None:
        unit, province = place.name, place.province_name
    else:
        assert u is not None, "a row without a place is a registered unit"
        unit, province = u["name"], u["province_name"]
    return {
        "code": place.code if place else (u or {}).get("ward_code"),
        "unit_id": (u or {}).get("id"),
        "agency": place is None and not (u or {}).get("ward_code"),
        "unit": unit,
        "province": province,
        "status": status,
        "members": (u or {}).get("members") or 0,
        "pending": (u or {}).get("pending") or 0,
        "seen": (u or {}).get("last_activity"),
        "last_activity": vn_date(local_date((u or {}).get("last_activity"), tz)) if u and u["last_activity"] else "",
        "last_run": vn_date(local_date(u["last_run"], tz)) if u and u.get("last_run") else "",
        "checklists_done": len(latest),
        "latest_score": round(min(scores), 1) if scores else None,
        "open_gaps": gaps,
        "open_tasks": (u or {}).get("open_tasks") or 0,
        "overdue_tasks": (u or {}).get("overdue_tasks") or 0,
        "unconfirmed_runs": (u or {}).get("unconfirmed_runs") or 0,
        "quiz_takers": (u or {}).get("quiz_takers") or 0,
        "quiz_avg": round(u["quiz_avg"], 1) if u and u.get("quiz_avg") is not None else None,
        **{f"score:{cid}": (latest[cid][1] if cid in latest else None) for cid in kb.checklists},
    }


def columns(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(key, Vietnamese header) of the export columns."""
    base = [
        ("unit", "pg_col_unit"),
        ("province", "pg_col_province"),
        ("status", "pg_col_status"),
        ("members", "pg_col_members"),
        ("pending", "pg_col_pending"),
        ("last_activity", "pg_col_last"),
        ("last_run", "pg_col_last_run"),
        ("checklists_done", "pg_col_done"),
        ("latest_score", "pg_col_score"),
        ("open_gaps", "pg_col_gaps"),
        ("open_tasks", "pg_col_tasks"),
        ("overdue_tasks", "pg_col_overdue"),
        ("unconfirmed_runs", "pg_col_unconfirmed"),
        ("quiz_takers", "pg_col_quiz_takers"),
        ("quiz_avg", "pg_col_quiz_avg"),
    ]
    return [(k, kb.text(t)) for k, t in base] + [(f"score:{cid}", cl.title) for cid, cl in kb.checklists.items()]


def _cells(kb: KnowledgeBase, r: dict) -> list:
    return [kb.text(f"pg_status_{r['status']}") if k == "status" else r.get(k) for k, _ in columns(kb)]


def to_csv(kb: KnowledgeBase, data: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([h for _, h in columns(kb)])
    for r in data:
        w.writerow(["" if v is None else safe_cell(v) for v in _cells(kb, r)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Vietnamese CSV correctly


def to_xlsx(kb: KnowledgeBase, data: list[dict]) -> bytes:
    """The table as an Excel workbook (openpyxl) with a header row, frozen panes and column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet), "a new workbook has one worksheet"
    ws.title = kb.text("pg_sheet")
    cols = columns(kb)
    ws.append([h for _, h in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in data:
        ws.append([safe_cell(v) for v in _cells(kb, r)])
    ws.freeze_panes = "B2"
    for i, (_, h) in enumerate(cols, 1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(h) + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def chart_png(kb: KnowledgeBase, data: list[dict]) -> bytes:
    """Histogram of the units' latest checklist scores, plus bars for units not registered / not started."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = ["0–49", "50–69", "70–84", "85–100"]
    counts = [0, 0, 0, 0]
    for r in data:
        s = r["latest_score"]
        if s is not None:
            counts[0 if s < 50 else 1 if s < 70 else 2 if s < 85 else 3] += 1
    labels = [kb.text("pg_status_unregistered"), kb.text("pg_not_started")] + bins
    values = [sum(r["status"] == "unregistered" for r in data), sum(r["status"] == "no-run" for r in data)] + counts
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    bars = ax.bar(labels, values, color=["#616161", "#9e9e9e", "#c62828", "#f9a825", "#7cb342", "#2e7d32"])
    for bar, v in zip(bars, values, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.05, str(v), ha="center", fontsize=9)
    ax.set_ylabel(kb.text("pg_chart_y"))
    ax.set_title(kb.text("pg_chart_title", n=len(data)), fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------------- screens (inspectors)

FILTER = Choice("filter", *FILTERS)
SHOW = Action("pg", FILTER, role="inspector", name="progress.filter")
PAGE_TO = Action("pn", FILTER, Index("page"), role="inspector", name="progress.page")
CHART = Action("pc", FILTER, role="inspector", name="progress.chart")
XLSX = Action("px", FILTER, role="inspector", name="progress.xlsx")
CSV = Action("pv", FILTER, role="inspector", name="progress.csv")
WARD = Action("pd", Id("ward"), role="inspector", name="progress.ward")
UNIT = Action("pa", Id("unit"), role="inspector", name="progress.unit")
RUN_REPORT = Action("pr", Id("run"), role="inspector", name="progress.run-report")
FILTER_MENU = Action("pm", FILTER, role="inspector", name="progress.filters")
FILES = Action("pe", FILTER, role="inspector", name="progress.files")


class Progress(Feature):
    """/tiendo: every commune and ward with its state, laggards first; one unit's drill-down; exports."""

    def __init__(self, ctx, checklists=None, readiness=None):
        super().__init__(ctx)
        self.checklists = checklists  # bot.checklists.Checklists: a run's .docx report
        self.readiness = readiness  # bot.readiness.Readiness: the pack before a visit

    def province_of(self, user: User | None) -> int | None:
        unit = self.storage.unit_of(user.id) if user else None
        return unit["province_code"] if unit else (self.ctx.province.code if self.ctx.province else None)

    def _rows(self, user: User, flt: str) -> list[dict]:
        return rows(
            self.storage,
            self.kb,
            flt,
            self.province_of(user),
            tz=self.ctx.tz,
            today=self.ctx.today(),
            team=frozenset(self.ctx.roles.inspectors()),
        )

    def _where(self, user: User) -> str:
        from bot import units

        province = units.provinces().get(self.province_of(user) or 0)
        return province.name if province else self.text("pg_everywhere")

    @command("tiendo", role="inspector", needs_db=True, advertised=False, shortcut="progress")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        """The first screen: the counts (total, active, silent, late), the few units needing attention,
        and one step to the units active in the last SILENT_DAYS days, the silent ones, the late ones."""
        rows_all = self._rows(user, "all")
        everyone = [r for r in rows_all if not r["agency"]]  # the counts are of communes and wards
        count = {f: sum(kept(x, f) for x in everyone) for f in ("active", "silent", "unregistered", "overdue")}
        r = Reply(mode=mode).add(
            self.text(
                "pg_title_summary", where=self._where(user), n=len(everyone), agencies=len(rows_all) - len(everyone)
            )
            + "\n",
            "b",
        )
        r.add(self.text("pg_counts", days=SILENT_DAYS, **{k.replace("-", "_"): v for k, v in count.items()}) + "\n")
        attention = needs_attention(rows_all)
        r.add("\n" + self.text("pg_attention", n=len(attention)), "b")
        for row in attention[:ATTENTION]:
            r.add("\n• " + self._line(row))
        if not attention:
            r.add("\n" + self.text("pg_attention_none"))
        r.buttons = [[self._open_button(row)] for row in attention[:ATTENTION]] + [
            [
                SHOW.button(self.text("pg_btn_active", n=count["active"]), "active"),
                SHOW.button(self.text("pg_btn_silent", n=count["silent"]), "silent"),
            ],
            [
                SHOW.button(self.text("pg_btn_overdue", n=count["overdue"]), "overdue"),
                SHOW.button(self.text("pg_btn_all"), "all"),
            ],
            [XLSX.button(self.text("pg_btn_xlsx"), "all")],
            home_row(self.ctx),
        ]
        return r

    def listing(self, user: User, flt: str = "all", mode: str = "send", page: int = 0) -> Reply:
        """One filter's units, a page at a time (laggards first; the active ones, last used first)."""
        rows_all = self._rows(user, "all")
        data = [r for r in rows_all if kept(r, flt)]
        if flt == "active":
            data.sort(key=lambda x: x["seen"] or "", reverse=True)
        everyone = [r for r in rows_all if not r["agency"]]  # the counts are of communes and wards
        pages = max(1, -(-len(data) // PAGE))
        page = min(page, pages - 1)
        r = Reply(mode=mode).add(
            self.text(
                "pg_title",
                where=self._where(user),
                n=len(everyone),
                agencies=len(rows_all) - len(everyone),
                filter=self.text(f"pg_f_{flt}"),
            )
            + "\n",
            "b",
        )
        r.add(
            self.text(
                "pg_summary",
                unregistered=sum(x["status"] == "unregistered" for x in everyone),
                no_run=sum(x["status"] == "no-run" for x in everyone),
                below=sum(x["latest_score"] is not None and x["latest_score"] < LOW_SCORE for x in everyone),
                overdue=sum(x["overdue_tasks"] > 0 for x in everyone),
            )
            + "\n"
        )
        rows_ = []
        for row in data[page * PAGE : (page + 1) * PAGE]:
            r.add("\n• " + self._line(row))
            rows_.append([self._open_button(row)])
        if not data:
            r.add("\n" + self.text("pg_none"))
        nav_row = [
            PAGE_TO.button(self.text("pg_page", n=p + 1), flt, p) for p in (page - 1, page + 1) if 0 <= p < pages
        ]
        if user.texts_only:  # numbered options: the filters and the files one step away, not 11 more numbers
            tools = [
                [FILTER_MENU.button(self.text("pg_btn_filters"), flt), FILES.button(self.text("pg_btn_files"), flt)]
            ]
        else:
            tools = [*self._filter_rows(flt), self._file_row(flt)]
        r.buttons = rows_ + ([nav_row] if nav_row else []) + tools
        r.buttons += [[nav.PROGRESS.button(self.text("pg_btn_summary")), *home_row(self.ctx)]]
        r.buttons = [row for row in r.buttons if row]
        return r

    def _filter_rows(self, flt: str, counts: dict[str, int] | None = None) -> list:
        def label(f: str) -> str:
            return self.text(f"pg_f_{f}") + (f" ({counts[f]})" if counts is not None else "")

        return [[SHOW.button(label(f), f) for f in FILTERS[i : i + 3] if f != flt] for i in range(0, len(FILTERS), 3)]

    def _file_row(self, flt: str) -> list:
        return [
            CHART.button(self.text("pg_btn_chart"), flt),
            XLSX.button(self.text("pg_btn_xlsx"), flt),
            CSV.button(self.text("pg_btn_csv"), flt),
        ]

    @FILTER_MENU
    def filters(self, user: User, flt: str) -> Reply:
        """«🔎 Lọc khác» (Zalo, the terminal): every filter with how many units it keeps."""
        rows_all = self._rows(user, "all")
        counts = {f: sum(kept(x, f) for x in rows_all) for f in FILTERS}
        rows = [[b] for row in self._filter_rows(flt, counts) for b in row]
        back = [SHOW.button(self.text("btn_back"), flt), nav.PROGRESS.button(self.text("pg_btn_summary"))]
        return Reply(buttons=[*rows, back], mode="edit").add(
            self.text("pg_filters_title", filter=self.text(f"pg_f_{flt}"))
        )

    @FILES
    def files(self, user: User, flt: str) -> Reply:
        """«📥 Tải về» (Zalo, the terminal): the chart, the Excel and CSV of the list shown."""
        rows = [[b] for b in self._file_row(flt)] + [[SHOW.button(self.text("btn_back"), flt)]]
        return Reply(buttons=rows, mode="edit").add(self.text("pg_files_title", filter=self.text(f"pg_f_{flt}")))

    def _line(self, row: dict) -> str:
        if row["status"] == "unregistered":
            return self.text("pg_line_unregistered", unit=row["unit"])
        pending = " " + self.text("pg_pending", n=row["pending"]) if row["pending"] else ""
        people = self.text("pg_people", n=row["members"]) + pending
        unconfirmed = " · " + self.text("pg_unconfirmed", n=row["unconfirmed_runs"]) if row["unconfirmed_runs"] else ""
        if row["status"] == "no-run":
            return (
                self.text("pg_line_no_run", unit=row["unit"], people=people, last=row["last_activity"] or "—")
                + unconfirmed
            )
        tasks = (
            " · " + self.text("pg_tasks", open=row["open_tasks"], late=row["overdue_tasks"])
            if row["open_tasks"]
            else ""
        )
        return (
            self.text(
                "pg_line_done",
                unit=row["unit"],
                people=people,
                score=f"{row['latest_score']:.0f}",
                day=row["last_run"],
                gaps=row["open_gaps"],
            )
            + tasks
            + unconfirmed
        )

    def _open_button(self, row: dict):
        label = short(f"🔎 {row['unit']}")
        return WARD.button(label, row["code"]) if row["code"] else UNIT.button(label, row["unit_id"])

    @nav.PROGRESS
    def pressed(self, user: User) -> Reply:
        return self.home(user)

    @SHOW
    def filtered(self, user: User, flt: str) -> Reply:
        return self.listing(user, flt, mode="edit")

    @PAGE_TO
    def paged(self, user: User, flt: str, page: int) -> Reply:
        return self.listing(user, flt, mode="edit", page=page)

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

    # ------------------------------------------------------------------ one unit

    @WARD
    def ward(self, user: User, code: int) -> Reply | None:
        from bot import units

        place = units.wards().get(code)
        if place is None:
            return None
        unit = self.storage.unit_by_ward(code)
        if unit is None:
            from bot.members import join_code, shown

            return (
                Reply(buttons=[[SHOW.button(self.text("pg_back"), "all"), *home_row(self.ctx)]])
                .add(self.text("pg_unit_title", unit=place.label) + "\n\n", "b")
                .add(self.text("pg_unit_unregistered", code=shown(join_code(self.storage, f"ward:{code}"))))
            )
        return self.unit(user, unit["id"])

    @UNIT
    def unit(self, user: User, unit_id: int) -> Reply | None:
        """Members, every self-assessment (score, date, who; unconfirmed ones marked), open tasks."""
        unit = self.storage.get_unit(unit_id)
        if unit is None:
            return None
        tz, today = self.ctx.tz, self.ctx.today().isoformat()
        members = self.storage.members_of(unit_id)
        r = Reply().add(self.text("pg_unit_title", unit=f"{unit['name']} ({unit['province_name']})") + "\n", "b")
        r.add(
            "\n"
            + self.text(
                "pg_unit_members",
                n=sum(m["status"] == "confirmed" for m in members),
                pending=sum(m["status"] != "confirmed" for m in members),
            )
        )
        rows_ = []
        runs = self.storage.unit_runs(unit_id)
        r.add("\n\n" + self.text("pg_unit_runs"), "b")
        for cid, cl in self.kb.checklists.items():
            history = [x for x in runs if x["checklist_id"] == cid]
            if not history:
                continue
            shown_runs = ", ".join(
                f"{x['score']:.0f} ({vn_date(local_date(x['finished'], tz))}"
                f"{'' if x['confirmed'] else ', ' + self.text('pg_unconfirmed_short')})"
                for x in history[:3]
            )
            r.add(
                "\n• "
                + self.text("pg_unit_run_line", title=cl.title, runs=shown_runs, who=history[0]["first_name"] or "…")
            )
            rows_.append([RUN_REPORT.button(short(self.text("pg_btn_answers", title=cl.title)), history[0]["id"])])
        if not runs:
            r.add("\n" + self.text("pg_unit_no_runs"))
        tasks = self.storage.tasks(unit=unit_id, status="open")
        r.add("\n\n" + self.text("pg_unit_tasks", n=len(tasks), late=sum(t["due"] < today for t in tasks)), "b")
        for t in tasks[:5]:
            late = " ⚠️" if t["due"] < today else ""
            r.add(f"\n• #{t['id']} {short(t['what'], 70)} — {t['owner_name'] or '…'}, {vn_date(t['due'])}{late}")
            rows_.append([nav.TASK.button(short(f"📌 #{t['id']} {t['what']}"), t["id"])])
        done = self.storage.tasks(unit=unit_id, status="done")
        if done:
            r.add("\n" + self.text("pg_unit_tasks_done", n=len(done)))
        if self.readiness:
            rows_.append([self.readiness.button(unit_id)])
        rows_.append([SHOW.button(self.text("pg_back"), "all"), *home_row(self.ctx)])
        r.buttons = rows_
        return r

    @RUN_REPORT
    def run_report(self, user: User, run_id: int) -> Reply | None:
        """The .docx of a unit's run (every answer and note), for the inspector."""
        run = self.storage.get_run(run_id)
        if (
            run is None
            or run["status"] != "done"
            or run["checklist_id"] not in self.kb.checklists
            or not self.checklists
        ):
            return None
        owner = self.storage.get_user(run["user_id"]) or {}
        data, name = self.checklists.report_bytes(run, owner.get("first_name") or "")
        caption = self.text("ck_report_caption")
        return Reply(attachment=Attachment(name, data, caption)).add(caption)

    # ------------------------------------------------------------------ the weekly digest

    def digest(self) -> list[int]:
        """Monday's message to every inspector and admin: units never registered, silent for
        SILENT_DAYS days, with overdue tasks; one broadcast per week. Returns its id, if made."""
        today = self.ctx.today()
        province = self.ctx.province.code if self.ctx.province else None
        data = [r for r in rows(self.storage, self.kb, "all", province, tz=self.ctx.tz, today=today) if not r["agency"]]
        silent = [r for r in data if kept(r, "silent")]
        never = [r for r in data if r["status"] == "unregistered"]
        overdue = [r for r in data if r["overdue_tasks"]]
        text = self.text(
            "digest",
            day=vn_date(today),
            n=len(data),
            never=len(never),
            silent=len(silent),
            days=SILENT_DAYS,
            overdue=len(overdue),
            names=", ".join(r["unit"] for r in (overdue + silent)[:6]) or "—",
        )
        people = self.ctx.roles.inspectors()
        year, week, _ = today.isocalendar()
        key = f"digest:{year}-W{week:02d}"
        with self.storage.transaction():
            if not people or self.storage.setting(key):
                return []
            self.storage.set_setting(key, today.isoformat())  # once a week, even after a restart
            bid = self.storage.create_broadcast(None, key, 0, text, people)
        return [bid] if bid is not None else []
