"""From a finding to a fix: follow-up actions ("việc khắc phục") with an owner and a due date.

A gap of a finished self-assessment ("Chưa đạt", "Đạt một phần"), or a finding the unit records from
an inspection of the province or from its own internal audit, becomes a *task*: what to do
(prefilled from the checklist item's recommended action), who does it (a member of the unit), by
when, and, once done, a closing note and a photo or file as evidence where the channel can send
one. The owner is told when a task is given to them, then reminded some days before the due date
and on it; every member of the unit sees the unit's list, and /viec gathers what concerns one
person: their tasks, their unfinished checklists and guides, the reminders that will reach them.

The draft of a new task lives in the prompt's data, so a restart mid-way resumes it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

from bot import nav
from bot.actions import Action, Choice, Feature, Id, Index, command, prompt
from bot.home import home_row
from bot.reply import Attachment, Button, Reply, Upload, User, short
from bot.text import fold, vn_date
from bot.when import WhenError, parse_date

SOURCES = ("checklist", "inspection", "audit", "other")
REMIND_DAYS_BEFORE = 3  # the owner's first reminder, this many days before the due date
MAX_OWNERS = 8  # members offered as owners on one screen
PAGE = 6  # tasks per screen
MAX_EVIDENCE_BYTES = 5_000_000

FINDING = Action("vn", Choice("source", *SOURCES[1:]), name="task.finding")
SAME_AS_FINDING = Action("vs", name="task.what-as-finding")
OWNER = Action("vo", Id("user"), name="task.owner")
QUICK_DUE = Action("vq", Choice("when", "1w", "2w", "eom"), name="task.due-quick")
EDIT_WHAT = Action("vw", name="task.edit-what")
SAVE = Action("vk", name="task.save")
CANCEL = Action("vx", name="task.cancel")
DONE = Action("vd", Id("task"), name="task.done")
DONE_NO_NOTE = Action("vc", Id("task"), name="task.done-no-note")
NEW_DUE = Action("vr", Id("task"), name="task.new-due")
REASSIGN = Action("vp", Id("task"), name="task.reassign")
REASSIGN_TO = Action("vy", Id("task"), Id("user"), name="task.reassign-to")
DROP = Action("vz", Id("task"), name="task.drop")
UNIT_LIST = Action("vu", Index("page"), name="task.unit-list")
EVIDENCE = Action("ve", Id("evidence"), name="task.evidence")
NEW = Action("va", name="task.new")


class TaskPrompt(StrEnum):
    FINDING = "task_finding"  # waiting for the finding's text (inspection / audit)
    WHAT = "task_what"  # waiting for what to do
    OWNER = "task_owner"  # waiting for an owner button
    DUE = "task_due"  # waiting for the due date
    CONFIRM = "task_confirm"  # waiting for «Lưu»
    CLOSE = "task_close"  # waiting for the closing note or evidence of task {"task"}
    NEW_DUE = "task_new_due"  # waiting for a new due date of task {"task"}


def parse_due(text: str, today: date) -> date | None:
    """A due date typed naturally ("15/12", "cuối tháng", "2 tuần", "thứ Hai tuần sau"), read by
    :func:`bot.when.parse_date`; None when it is not a date, or already past."""
    try:
        return parse_date(text, today)
    except WhenError:
        return None


class Followups(Feature):
    """/viec: my tasks and what else concerns me; the unit's tasks; new tasks from gaps and findings.

    ``sections`` are the other features' parts of "Việc của tôi": each a callable ``(user) -> Section
    | None`` (unfinished checklists, guides, assigned quizzes, reminders that will reach me)."""

    def __init__(self, ctx, sections=()):
        super().__init__(ctx)
        self.sections = list(sections)

    # ------------------------------------------------------------------ "Việc của tôi"

    @command("viec", needs_db=True, shortcut="mywork")
    def mine(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        """/viec: open tasks I own, unfinished checklists and guides, reminders that will reach me."""
        today = self.ctx.today()
        r = Reply(mode=mode).add(self.text("mw_title") + "\n", "b")
        rows: list[list[Button]] = []
        tasks = self.storage.tasks(owner=user.id)
        r.add("\n" + self.text("mw_tasks", n=len(tasks)), "b")
        for t in tasks[:PAGE]:
            r.add("\n• " + self._line(t, today))
            rows.append([nav.TASK.button(short(f"📌 #{t['id']} {t['what']}"), t["id"])])
        if not tasks:
            r.add("\n" + self.text("mw_no_tasks"))
        for section in filter(None, (part(user) for part in self.sections)):
            r.add("\n\n" + section.title, "b")
            for line in section.lines:
                r.add("\n• " + line)
            rows += section.buttons
        unit = self.storage.unit_of(user.id)
        if unit:
            rows.append([UNIT_LIST.button(self.text("mw_unit_btn", unit=short(unit["name"], 30)), 0)])
            rows.append([NEW.button(self.text("task_new_btn"))])
        rows.append(home_row(self.ctx))
        r.buttons = rows
        return r

    @nav.MY_WORK
    def mine_pressed(self, user: User) -> Reply:
        return self.mine(user, mode="edit")

    def _line(self, t: dict, today: date, owner: bool = False) -> str:
        due = date.fromisoformat(t["due"])
        state = (
            self.text("task_done_on", day=vn_date(t["closed"][:10]))
            if t["status"] == "done"
            else self.text("task_overdue", n=(today - due).days)
            if due < today
            else self.text("task_due_today")
            if due == today
            else self.text("task_due_on", day=vn_date(due))
        )
        who = f" · {t.get('owner_name') or '…'}" if owner else ""
        return f"#{t['id']} {short(t['what'], 70)}{who} — {state}"

    @UNIT_LIST
    def unit_list(self, user: User, page: int) -> Reply | None:
        unit = self.storage.unit_of(user.id)
        if unit is None:
            return None
        tasks = self.storage.tasks(unit=unit["id"], status=None)
        today = self.ctx.today()
        pages = max(1, -(-len(tasks) // PAGE))
        page = min(page, pages - 1)
        open_n = sum(1 for t in tasks if t["status"] == "open")
        late = sum(1 for t in tasks if t["status"] == "open" and t["due"] < today.isoformat())
        r = Reply(mode="edit").add(self.text("unit_tasks_title", unit=unit["name"], open=open_n, late=late) + "\n", "b")
        rows = []
        for t in tasks[page * PAGE : (page + 1) * PAGE]:
            r.add("\n• " + self._line(t, today, owner=True))
            rows.append([nav.TASK.button(short(f"#{t['id']} {t['what']}"), t["id"])])
        if not tasks:
            r.add("\n" + self.text("unit_tasks_none"))
        if pages > 1:
            rows.append([UNIT_LIST.button(self.text("page_n", n=p + 1), p) for p in range(pages) if p != page][:6])
        rows.append([NEW.button(self.text("task_new_btn"))])
        rows.append([nav.READINESS.button(self.text("rp_btn"), unit["id"])])
        rows.append([nav.MY_WORK.button(self.text("btn_my_work")), *home_row(self.ctx)])
        r.buttons = rows
        return r

    # ------------------------------------------------------------------ one task

    def _may_see(self, user: User, t: dict) -> bool:
        unit = self.storage.unit_of(user.id)
        return (
            (unit is not None and unit["id"] == t["unit_id"])
            or t["owner_id"] == user.id
            or self.ctx.roles.role_of(user) != "official"
        )

    def _may_change(self, user: User, t: dict) -> bool:
        return user.id in (t["owner_id"], t["created_by"]) or self.ctx.roles.role_of(user) != "official"

    def _open_task(self, user: User, task_id: object) -> dict | None:
        """The open task ``task_id`` if this user may change it (its owner, its creator or the team)."""
        t = self.storage.get_task(task_id) if isinstance(task_id, int) else None
        return t if t is not None and t["status"] == "open" and self._may_change(user, t) else None

    @nav.TASK
    def show(self, user: User, task_id: int, mode: str = "send", notice: str = "") -> Reply | None:
        t = self.storage.get_task(task_id)
        if t is None or not self._may_see(user, t):
            return None
        r = Reply(mode=mode)
        if notice:
            r.add(notice + "\n\n", "i")
        r.add(self.card(t), "")
        rows: list[list[Button]] = []
        if t["status"] == "open" and self._may_change(user, t):
            rows.append([DONE.button(self.text("task_btn_done"), t["id"])])
            rows.append(
                [
                    NEW_DUE.button(self.text("task_btn_due"), t["id"]),
                    REASSIGN.button(self.text("task_btn_owner"), t["id"]),
                ]
            )
            rows.append([DROP.button(self.text("task_btn_drop"), t["id"])])
        for n, ev in enumerate(self.storage.evidence_of(t["id"])[:4], 1):
            rows.append(
                [EVIDENCE.button(self.text("task_btn_evidence", n=n, kind=self.text(f"ev_{ev['kind']}")), ev["id"])]
            )
        rows.append([nav.MY_WORK.button(self.text("btn_my_work")), *home_row(self.ctx)])
        r.buttons = rows
        return r

    def card(self, t: dict) -> str:
        """A task as text: source, finding, what, owner, due, state, closing note, evidence."""
        owner = self.storage.get_user(t["owner_id"]) or {}
        unit = self.storage.get_unit(t["unit_id"]) or {}
        lines = [
            self.text("task_card_title", id=t["id"], unit=unit.get("name", "")),
            self.text("task_card_source", source=self._source_label(t)),
        ]
        if t["finding"]:
            lines.append(self.text("task_card_finding", text=t["finding"]))
        lines += [
            self.text("task_card_what", text=t["what"]),
            self.text("task_card_owner", who=owner.get("first_name") or "…", due=vn_date(t["due"])),
        ]
        today = self.ctx.today().isoformat()
        if t["status"] == "done" or t["due"] <= today:  # done, due today or late: say it
            state = self._line(t, self.ctx.today()).split(" — ", 1)[1]
            lines.append(("✅ " if t["status"] == "done" else "⚠️ ") + state[:1].upper() + state[1:])
        if t["status"] == "done":
            if t["note"]:
                lines.append(self.text("task_card_note", text=t["note"]))
            n = len(self.storage.evidence_of(t["id"]))
            if n:
                lines.append(self.text("task_card_evidence", n=n))
        return "\n".join(lines)

    def _source_label(self, t: dict) -> str:
        if t["source"] == "checklist":
            cl = self.kb.checklists.get(t["checklist_id"] or "")
            return self.text("task_src_checklist", title=cl.title if cl else t["checklist_id"])
        return self.text(f"task_src_{t['source']}")

    @DONE
    def done(self, user: User, task_id: int) -> Reply | None:
        t = self._open_task(user, task_id)
        if t is None:
            return None
        self.storage.set_prompt(user.id, TaskPrompt.CLOSE, {"task": t["id"]})
        return Reply(
            buttons=[
                [DONE_NO_NOTE.button(self.text("task_btn_no_note"), t["id"])],
                [nav.TASK.button(self.text("btn_back"), t["id"])],
            ]
        ).add(self.say(user, "task_close_prompt", id=t["id"]))

    @prompt(TaskPrompt.CLOSE, uploads=True)
    def close_typed(self, user: User, data: dict, text: str, upload: Upload | None = None) -> Reply:
        """The closing note, or a photo/file as evidence (with its caption as the note)."""
        t = self._open_task(user, data.get("task"))
        if t is None:
            self.storage.clear_prompt(user.id)
            return Reply(buttons=[[nav.MY_WORK.button(self.text("btn_my_work"))]]).add(self.text("task_gone"))
        if upload is not None:
            data_bytes = upload.data if upload.data and len(upload.data) <= MAX_EVIDENCE_BYTES else None
            self.storage.add_evidence(
                t["id"], user.id, user.channel, upload.kind, upload.ref, upload.name[:120], data_bytes
            )
            if not text.strip():  # a photo alone: keep waiting for the note, or close without one
                return Reply(buttons=[[DONE_NO_NOTE.button(self.text("task_btn_close_now"), t["id"])]]).add(
                    self.text("task_evidence_saved", id=t["id"])
                )
        return self._close(user, t, text.strip()[:500])

    @DONE_NO_NOTE
    def done_no_note(self, user: User, task_id: int) -> Reply | None:
        t = self._open_task(user, task_id)
        if t is None:
            return None
        return self._close(user, t, "")

    def _close(self, user: User, t: dict, note: str) -> Reply:
        self.storage.update_task(
            t["id"], status="done", note=note, closed=self.ctx.now().isoformat(timespec="seconds"), closed_by=user.id
        )
        self.storage.clear_prompt(user.id)
        self.storage.audit(user.id, "task.done", str(t["id"]))
        if t["created_by"] and t["created_by"] != user.id:
            self._tell(
                t["created_by"],
                self.text("task_closed_msg", id=t["id"], what=short(t["what"], 80), who=user.first_name or "…"),
            )
        return self.show(user, t["id"], notice=self.text("task_closed", id=t["id"]))

    @NEW_DUE
    def new_due(self, user: User, task_id: int) -> Reply | None:
        t = self._open_task(user, task_id)
        if t is None:
            return None
        self.storage.set_prompt(user.id, TaskPrompt.NEW_DUE, {"task": t["id"]})
        return Reply(buttons=[[nav.TASK.button(self.text("btn_back"), t["id"])]]).add(self.text("task_ask_due"))

    @prompt(TaskPrompt.NEW_DUE)
    def new_due_typed(self, user: User, data: dict, text: str) -> Reply | None:
        task_id = data.get("task")
        t = self.storage.get_task(task_id) if isinstance(task_id, int) else None
        due = parse_due(text, self.ctx.today())
        if t is None or t["status"] != "open":
            return None
        if due is None:
            return (
                None
                if not re.search(r"\d|cuoi|tuan|thu|ngay", fold(text))
                else Reply(buttons=[[nav.TASK.button(self.text("btn_back"), t["id"])]]).add(self.text("task_bad_due"))
            )
        self.storage.update_task(t["id"], due=due.isoformat(), reminded="")
        self.storage.clear_prompt(user.id)
        self.storage.audit(user.id, "task.due", str(t["id"]), due.isoformat())
        return self.show(user, t["id"], notice=self.text("task_due_changed", day=vn_date(due)))

    @REASSIGN
    def reassign(self, user: User, task_id: int) -> Reply | None:
        t = self._open_task(user, task_id)
        if t is None:
            return None
        rows = [
            [REASSIGN_TO.button(short(self._member_label(m, user)), t["id"], m["id"])]
            for m in self.storage.members_of(t["unit_id"])[:MAX_OWNERS]
        ]
        return Reply(buttons=rows + [[nav.TASK.button(self.text("btn_back"), t["id"])]]).add(
            self.text("task_ask_owner")
        )

    @REASSIGN_TO
    def reassign_to(self, user: User, task_id: int, owner: int) -> Reply | None:
        t = self.storage.get_task(task_id)
        member = self.storage.get_user(owner)
        if (
            t is None
            or t["status"] != "open"
            or not self._may_change(user, t)
            or not member
            or member["unit_id"] != t["unit_id"]
        ):
            return None
        self.storage.update_task(t["id"], owner_id=owner, reminded="")
        self.storage.audit(user.id, "task.owner", str(t["id"]), str(owner))
        if owner != user.id:
            self._tell_assigned(t["id"], user)
        return self.show(
            user, t["id"], mode="edit", notice=self.text("task_owner_changed", who=member["first_name"] or "…")
        )

    @DROP
    def drop(self, user: User, task_id: int) -> Reply | None:
        t = self._open_task(user, task_id)
        if t is None:
            return None
        self.storage.update_task(
            t["id"], status="dropped", closed=self.ctx.now().isoformat(timespec="seconds"), closed_by=user.id
        )
        self.storage.audit(user.id, "task.drop", str(t["id"]))
        return self.mine(user, mode="edit")

    @EVIDENCE
    def evidence(self, user: User, evidence_id: int) -> Reply | None:
        ev = self.storage.get_evidence(evidence_id)
        t = self.storage.get_task(ev["task_id"]) if ev else None
        if ev is None or t is None or not self._may_see(user, t):
            return None
        caption = self.text("task_evidence_caption", id=t["id"])
        if ev["data"]:
            name = ev["name"] or f"bang-chung-{ev['id']}.jpg"
            return Reply(attachment=Attachment(name, ev["data"], caption, ev["kind"])).add(caption)
        if ev["channel"] == user.channel and ev["channel"] == "telegram":
            return Reply(attachment=Attachment(ev["name"] or "", b"", caption, ev["kind"], ref=ev["ref"])).add(caption)
        return Reply().add(self.text("task_evidence_elsewhere", channel=self.text(f"channel_{ev['channel']}")))

    # ------------------------------------------------------------------ a new task

    def _draft(self, user: User) -> dict:
        pending = self.storage.get_prompt(user.id)
        return pending[1] if pending and pending[0] in set(TaskPrompt) - {TaskPrompt.CLOSE, TaskPrompt.NEW_DUE} else {}

    @nav.TASK_FROM_GAP
    def from_gap(self, user: User, run_id: int, idx: int) -> Reply | None:
        """«➕ Tạo việc» under a gap of a finished self-assessment."""
        run = self.storage.get_run(run_id)
        cl = self.kb.checklists.get(run["checklist_id"]) if run else None
        if run is None or cl is None or run["user_id"] != user.id or run["status"] != "done" or idx >= len(cl.items):
            return None
        if not run["unit_id"]:
            return Reply(buttons=[[nav.REGISTER_UNIT.button(self.text("btn_unit"))]]).add(self.text("task_needs_unit"))
        item = cl.items[idx]
        existing = self.storage.task_for_item(run["unit_id"], cl.id, item.id)
        if existing and existing["status"] == "open":
            return self.show(user, existing["id"], notice=self.text("task_exists"))
        answer = (self.storage.run_answers(run["id"]).get(item.id) or {}).get("answer") or "bo-qua"
        draft = {
            "source": "checklist",
            "run": run["id"],
            "checklist": cl.id,
            "item": item.id,
            "unit": run["unit_id"],
            "finding": f"{item.question} ({self.text('ck_ans_' + answer)})",
            "what": item.action,
        }
        return self._ask_owner(user, draft)

    @NEW
    def new(self, user: User) -> Reply | None:
        """«➕ Ghi kết luận kiểm tra / đánh giá nội bộ»: where the finding comes from."""
        unit = self.storage.unit_of(user.id)
        if unit is None:
            return Reply(buttons=[[nav.REGISTER_UNIT.button(self.text("btn_unit"))]]).add(self.text("task_needs_unit"))
        rows = [[FINDING.button(self.text(f"task_src_{s}"), s)] for s in SOURCES[1:]]
        return Reply(buttons=rows + [[CANCEL.button(self.text("btn_cancel"))]]).add(self.text("task_ask_source"))

    @FINDING
    def finding(self, user: User, source: str) -> Reply | None:
        unit = self.storage.unit_of(user.id)
        if unit is None:
            return None
        self.storage.set_prompt(user.id, TaskPrompt.FINDING, {"source": source, "unit": unit["id"]})
        return Reply(buttons=[[CANCEL.button(self.text("btn_cancel"))]]).add(self.text("task_ask_finding"))

    @prompt(TaskPrompt.FINDING)
    def finding_typed(self, user: User, data: dict, text: str) -> Reply:
        finding = " ".join(text.split())[:500]
        if len(finding) < 5:
            return Reply(buttons=[[CANCEL.button(self.text("btn_cancel"))]]).add(self.text("task_ask_finding"))
        draft = {**data, "finding": finding}
        self.storage.set_prompt(user.id, TaskPrompt.WHAT, draft)
        return Reply(
            buttons=[[SAME_AS_FINDING.button(self.text("task_btn_same"))], [CANCEL.button(self.text("btn_cancel"))]]
        ).add(self.text("task_ask_what"))

    @SAME_AS_FINDING
    def same_as_finding(self, user: User) -> Reply | None:
        draft = self._draft(user)
        if not draft.get("finding"):
            return None
        return self._ask_owner(
            user, {**draft, "what": self.text("task_what_fix", finding=short(draft["finding"], 200))}
        )

    @EDIT_WHAT
    def edit_what(self, user: User) -> Reply | None:
        draft = self._draft(user)
        if not draft:
            return None
        self.storage.set_prompt(user.id, TaskPrompt.WHAT, draft)
        return Reply(buttons=[[CANCEL.button(self.text("btn_cancel"))]]).add(
            self.text("task_ask_what_edit", what=draft.get("what", ""))
        )

    @prompt(TaskPrompt.WHAT)
    def what_typed(self, user: User, data: dict, text: str) -> Reply:
        what = " ".join(text.split())[:500]
        if len(what) < 3:
            return Reply(buttons=[[CANCEL.button(self.text("btn_cancel"))]]).add(self.text("task_ask_what"))
        draft = {**data, "what": what}
        return self._confirm(user, draft) if draft.get("owner") and draft.get("due") else self._ask_owner(user, draft)

    def _member_label(self, m: dict, user: User) -> str:
        name = self.text("task_me") if m["id"] == user.id else (m["first_name"] or "…")
        return f"👤 {name}" + (f" (@{m['username']})" if m["username"] and m["id"] != user.id else "")

    def _ask_owner(self, user: User, draft: dict) -> Reply:
        self.storage.set_prompt(user.id, TaskPrompt.OWNER, draft)
        members = self.storage.members_of(draft["unit"])
        members.sort(key=lambda m: m["id"] != user.id)  # "Tôi" first
        rows = [[OWNER.button(short(self._member_label(m, user)), m["id"])] for m in members[:MAX_OWNERS]]
        rows += [[EDIT_WHAT.button(self.text("task_btn_edit_what"))], [CANCEL.button(self.text("btn_cancel"))]]
        return Reply(buttons=rows).add(
            self.text("task_draft", what=draft["what"]) + "\n\n" + self.text("task_ask_owner")
        )

    @prompt(TaskPrompt.OWNER)
    def owner_typed(self, user: User, data: dict, text: str) -> None:
        """Text while the owner buttons wait: read as usual (a question), the draft is dropped."""
        return None

    @OWNER
    def owner(self, user: User, owner: int) -> Reply | None:
        draft = self._draft(user)
        member = self.storage.get_user(owner)
        if not draft.get("what") or not member or member["unit_id"] != draft.get("unit"):
            return None
        draft = {**draft, "owner": owner, "owner_name": member["first_name"] or "…"}
        if draft.get("due"):
            return self._confirm(user, draft)
        self.storage.set_prompt(user.id, TaskPrompt.DUE, draft)
        return Reply(
            buttons=[
                [QUICK_DUE.button(self.text(f"task_due_{w}"), w) for w in ("1w", "2w", "eom")],
                [CANCEL.button(self.text("btn_cancel"))],
            ]
        ).add(self.text("task_ask_due"))

    @QUICK_DUE
    def quick_due(self, user: User, when: str) -> Reply | None:
        draft = self._draft(user)
        if not draft.get("owner"):
            return None
        due = parse_due({"1w": "1 tuan", "2w": "2 tuan", "eom": "cuoi thang"}[when], self.ctx.today())
        if due is None:
            return None
        return self._confirm(user, {**draft, "due": due.isoformat()})

    @prompt(TaskPrompt.DUE)
    def due_typed(self, user: User, data: dict, text: str) -> Reply | None:
        due = parse_due(text, self.ctx.today())
        if due is None:
            if not re.search(r"\d|cuoi|tuan|thu|ngay", fold(text)):
                return None  # not a date at all: a question; the draft is dropped
            return Reply(
                buttons=[
                    [QUICK_DUE.button(self.text(f"task_due_{w}"), w) for w in ("1w", "2w", "eom")],
                    [CANCEL.button(self.text("btn_cancel"))],
                ]
            ).add(self.text("task_bad_due"))
        return self._confirm(user, {**data, "due": due.isoformat()})

    def _confirm(self, user: User, draft: dict) -> Reply:
        self.storage.set_prompt(user.id, TaskPrompt.CONFIRM, draft)
        text = self.text(
            "task_confirm",
            finding=draft.get("finding") or "—",
            what=draft["what"],
            who=draft.get("owner_name") or "…",
            due=vn_date(draft["due"]),
        )
        return Reply(
            buttons=[
                [SAVE.button(self.text("task_btn_save"))],
                [EDIT_WHAT.button(self.text("task_btn_edit_what"))],
                [CANCEL.button(self.text("btn_cancel"))],
            ]
        ).add(text)

    @prompt(TaskPrompt.CONFIRM)
    def confirm_typed(self, user: User, data: dict, text: str) -> None:
        return None

    @SAVE
    def save(self, user: User) -> Reply | None:
        pending = self.storage.get_prompt(user.id)
        if not pending or pending[0] != TaskPrompt.CONFIRM:
            return None
        d = pending[1]
        tid = self.storage.create_task(
            {
                "unit_id": d["unit"],
                "created_by": user.id,
                "owner_id": d["owner"],
                "source": d["source"],
                "run_id": d.get("run"),
                "checklist_id": d.get("checklist"),
                "item_id": d.get("item"),
                "finding": d.get("finding", ""),
                "what": d["what"],
                "due": d["due"],
            }
        )
        self.storage.clear_prompt(user.id)
        self.storage.audit(user.id, "task.create", str(tid), d["source"])
        if d["owner"] != user.id:
            self._tell_assigned(tid, user)
        return self.show(user, tid, notice=self.text("task_saved", id=tid, days=REMIND_DAYS_BEFORE))

    @CANCEL
    def cancel(self, user: User) -> Reply:
        self.storage.clear_prompt(user.id)
        return Reply(buttons=[[nav.MY_WORK.button(self.text("btn_my_work")), *home_row(self.ctx)]]).add(
            self.text("task_cancelled")
        )

    # ------------------------------------------------------------------ telling people

    def _tell(self, user_id: int, text: str) -> None:
        """A message to one person on their channel: a one-recipient broadcast, so it survives a restart."""
        bid = self.storage.create_broadcast(None, f"task-{self.ctx.now().isoformat()}-{user_id}", 0, text, [user_id])
        if bid is not None and self.ctx.scheduler:
            self.ctx.scheduler.broadcast(bid)

    def _tell_assigned(self, task_id: int, by: User) -> None:
        """Tell a task's owner it is theirs now, as the task stands after the change."""
        t = self.storage.get_task(task_id)
        if t is None:
            return
        unit = self.storage.get_unit(t["unit_id"]) or {}
        self._tell(
            t["owner_id"],
            self.text(
                "task_assigned_msg",
                id=t["id"],
                what=short(t["what"], 200),
                due=vn_date(t["due"]),
                who=by.first_name or "…",
                unit=unit.get("name", ""),
            ),
        )

    def due_notices(self) -> list[int]:
        """The owners' reminders due today: REMIND_DAYS_BEFORE days before the due date and on it, each
        once (marked in the same transaction as the broadcast that carries it). Returns broadcast ids."""
        today = self.ctx.today()
        out = []
        with self.storage.transaction():
            for t in self.storage.tasks_due((today + timedelta(days=REMIND_DAYS_BEFORE)).isoformat()):
                due = date.fromisoformat(t["due"])
                sent = set(filter(None, (t["reminded"] or "").split(",")))
                kind = "due" if due <= today else "before"
                if kind in sent or (kind == "before" and "due" in sent):
                    continue
                key = "task_remind_due" if due == today else "task_remind_late" if due < today else "task_remind_before"
                text = self.text(
                    key, id=t["id"], what=short(t["what"], 200), due=vn_date(due), n=abs((due - today).days)
                )
                self.storage.update_task(t["id"], reminded=",".join(sorted(sent | {kind})))
                bid = self.storage.create_broadcast(
                    None, f"task-{t['id']}-{kind}-{today.isoformat()}", 0, text, [t["owner_id"]]
                )
                if bid is not None:
                    out.append(bid)
        return out
