"""Reminders for the inspection team: schedules, the creation wizard, and firing them as broadcasts.

A reminder has a target (everyone; a province; units that have not finished checklist X; chosen
units) and a schedule (once at a date and time; weekly; monthly; N days before an event of the
yearly calendar). Reminders live in SQLite with their next run time; the front-end's job queue
wakes :meth:`Reminders.fire` at that time. A reminder that fell due while the bot was down is
fired once at start-up, marked late; the (reminder, occurrence) pair is unique, so never twice.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.actions import Action, Choice, Feature, Id, Slug, command, prompt
from bot.home import home_row
from bot.knowledge import KnowledgeBase
from bot.reply import Button, Reply, Section, User, short
from bot.text import fold

KINDS = ("once", "weekly", "monthly", "event")
LATE_AFTER = timedelta(minutes=5)
_DT = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2})[:h](\d{2})\s*$")
_TIME = re.compile(r"(\d{1,2})[:h](\d{2})")


class ScheduleError(ValueError):
    """The schedule the user typed cannot be understood; the message says how to write it."""


def parse_datetime(text: str, tz) -> datetime:
    """'15/12/2026 08:30' → an aware datetime in ``tz``."""
    m = _DT.match(text or "")
    if not m:
        raise ScheduleError("format")
    d, mo, y, h, mi = (int(x) for x in m.groups())
    try:
        return datetime(y, mo, d, h, mi, tzinfo=tz)
    except ValueError as exc:
        raise ScheduleError("format") from exc


def parse_time(text: str) -> str:
    m = _TIME.search(text or "")
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ScheduleError("time")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _at(day: date, hhmm: str, tz) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=tz)


def next_run(rem: dict, after: datetime, kb: KnowledgeBase, tz) -> datetime | None:
    """The first occurrence of a reminder strictly after ``after`` (None when there is none left)."""
    kind = rem["kind"]
    if kind == "once":
        at = datetime.fromisoformat(rem["at"])
        return at if at > after else None
    if kind == "weekly":
        day = after.date()
        for i in range(8):
            d = day + timedelta(days=i)
            if d.weekday() == rem["weekday"] and _at(d, rem["time"], tz) > after:
                return _at(d, rem["time"], tz)
    if kind == "monthly":
        y, m = after.year, after.month
        for _ in range(14):
            day = min(rem["monthday"], 28 if m == 2 else 30 if m in (4, 6, 9, 11) else 31)
            candidate = _at(date(y, m, day), rem["time"], tz)
            if candidate > after:
                return candidate
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if kind == "event":
        from bot.yearly import occurrences

        event = next((e for e in kb.calendar if e.id == rem["event"]), None)
        if event is None:
            return None
        for year in (after.year, after.year + 1):
            for start, _ in occurrences(event, year):
                candidate = _at(start - timedelta(days=rem["days_before"]), rem["time"], tz)
                if candidate > after:
                    return candidate
    return None


def describe(rem: dict, kb: KnowledgeBase) -> str:
    """The schedule in Vietnamese, e.g. 'Hằng tuần: Thứ Hai, 08:00'."""
    from babel.dates import format_date, format_datetime

    kind = rem["kind"]
    if kind == "once":
        at = datetime.fromisoformat(rem["at"])
        return kb.text("rem_once", when=format_datetime(at, "HH:mm, EEEE, d 'tháng' M, y", locale="vi"))
    if kind == "weekly":
        monday = date(2024, 1, 1)  # a Monday
        return kb.text("rem_weekly", day=format_date(monday + timedelta(days=rem["weekday"]), "EEEE", locale="vi"),
                       time=rem["time"])
    if kind == "monthly":
        return kb.text("rem_monthly", day=rem["monthday"], time=rem["time"])
    event = next((e for e in kb.calendar if e.id == rem["event"]), None)
    return kb.text("rem_event", days=rem["days_before"], event=event.title if event else rem["event"], time=rem["time"])


LIST = Action("rl", role="inspector", name="reminder.list")
NEW = Action("rn", role="inspector", name="reminder.new")
TARGET = Action("rt", Choice("target", "all", "province", "not-done", "units"), role="inspector", name="reminder.target")
CHECKLIST = Action("rc", Slug("checklist"), role="inspector", name="reminder.checklist")
KIND = Action("rs", Choice("kind", *KINDS), role="inspector", name="reminder.kind")
EVENT = Action("ri", Slug("event"), role="inspector", name="reminder.event")
QUICK = Action("rq", Choice("when", "now", "tomorrow"), role="inspector", name="reminder.quick")
SAVE = Action("rk", role="inspector", name="reminder.save")
CANCEL = Action("rx", role="inspector", name="reminder.cancel")
PAUSE = Action("rp", Id("reminder"), role="inspector", name="reminder.pause")
RESUME = Action("ru", Id("reminder"), role="inspector", name="reminder.resume")
DELETE = Action("rz", Id("reminder"), role="inspector", name="reminder.delete")
EDIT = Action("re", Id("reminder"), role="inspector", name="reminder.edit")
REPORT = Action("rv", Id("reminder"), role="inspector", name="reminder.report")
RESEND = Action("rw", Id("broadcast"), role="inspector", name="broadcast.resend-unknown")


class ReminderPrompt(StrEnum):
    """The steps of the /nhacviec wizard; the draft reminder is the prompt's data."""

    TEXT = "rem_text"            # waiting for the message
    TARGET = "rem_target"        # waiting for a target button
    UNITS = "rem_units"          # waiting for unit names
    KIND = "rem_kind"            # waiting for a schedule button
    WHEN = "rem_when"            # waiting for a date/time
    CONFIRM = "rem_confirm"      # waiting for «Lưu»
    EDIT = "rem_edit"            # waiting for the new text of reminder {"id"}


class Reminders(Feature):
    """The /nhacviec wizard and list (inspectors and admins only; every action re-checks the role)."""

    def _cancel_row(self) -> list[list[Button]]:
        return [[CANCEL.button(self.text("btn_cancel"))]]

    # -------------------------------------------------------------- list

    @command("nhacviec", role="inspector", needs_db=True, advertised=False, shortcut="reminders")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        rows = [[NEW.button(self.text("rem_new"))]]
        r = Reply(mode=mode).add(self.text("rem_title") + "\n", "b")
        items = self.storage.reminders()
        if not items:
            r.add(self.text("rem_none"))
        for rem in items:
            state = self.text("rem_paused") if rem["status"] == "paused" else ""
            r.add(f"\n#{rem['id']} {short(rem['text'], 60)}\n", "b")
            r.add(f"{describe(rem, self.kb)} · {self._target_label(rem)}{state}\n{self._fmt_next(rem)}\n")
            toggle = (RESUME.button("▶️", rem["id"]) if rem["status"] == "paused" else PAUSE.button("⏸", rem["id"]))
            rows.append([REPORT.button(f"#{rem['id']}", rem["id"]), toggle, EDIT.button("✏️", rem["id"]),
                         DELETE.button("🗑", rem["id"])])
        rows.append(home_row(self.ctx))
        r.buttons = rows
        return r

    @LIST
    def listed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    def my_work(self, user: User) -> Section | None:
        """The reminders of the inspection team that will reach this person next, for "Việc của tôi"."""
        coming = [r for r in self.storage.reminders(("active",)) if r["next_run"]
                  and user.id in self.storage.recipients(r["target"], r["target_arg"] or "")]
        if not coming:
            return None
        coming.sort(key=lambda r: r["next_run"])
        section = Section(self.text("mw_reminders"))
        for rem in coming[:3]:
            section.lines.append(f"{short(rem['text'], 80)} — {self._fmt_next(rem)}")
        return section

    def _fmt_next(self, rem: dict) -> str:
        from babel.dates import format_datetime

        if rem["status"] != "active" or not rem["next_run"]:
            return self.text("rem_no_next")
        return self.text("rem_next", when=format_datetime(datetime.fromisoformat(rem["next_run"]),
                                                          "HH:mm, EEEE, d/M/y", locale="vi"))

    def _target_label(self, rem: dict) -> str:
        target, arg = rem["target"], rem["target_arg"] or ""
        if target == "province":
            from bot.units import provinces

            p = provinces().get(int(arg)) if arg.isdigit() else None
            return self.text("rem_t_province_named", province=p.name if p else arg)
        if target == "not-done":
            cl = self.kb.checklists.get(arg)
            return self.text("rem_t_not_done_named", checklist=cl.title if cl else arg)
        if target == "units":
            return self.text("rem_t_units_named", n=len([x for x in arg.split(",") if x]))
        return self.text("rem_t_all")

    # -------------------------------------------------------------- the wizard (the draft is the prompt's data)

    def _draft(self, user: User) -> dict:
        pending = self.storage.get_prompt(user.id)
        return pending[1] if pending and pending[0] in set(ReminderPrompt) and pending[0] != ReminderPrompt.EDIT else {}

    def _save_draft(self, user: User, step: ReminderPrompt, draft: dict) -> None:
        self.storage.set_prompt(user.id, step, draft)

    @NEW
    def start(self, user: User) -> Reply:
        self._save_draft(user, ReminderPrompt.TEXT, {})
        return Reply(buttons=self._cancel_row()).add(self.text("rem_ask_text"))

    @prompt(ReminderPrompt.TEXT, role="inspector")
    def text_typed(self, user: User, draft: dict, text: str) -> Reply:
        text = text.strip()
        if len(text) < 3:
            return Reply().add(self.text("rem_ask_text"))
        self._save_draft(user, ReminderPrompt.TARGET, {**draft, "text": text[:1000]})
        return self._ask_target()

    @prompt(ReminderPrompt.UNITS, role="inspector")
    def units_typed(self, user: User, draft: dict, text: str) -> Reply:
        from bot.units import match_registered  # the units module is loaded only where units are named

        found = match_registered(self.storage.all_units(), text)
        if not found:
            return Reply(buttons=self._cancel_row()).add(self.text("rem_units_none"))
        draft = {**draft, "target": "units", "target_arg": ",".join(str(u["id"]) for u in found),
                 "unit_names": [u["name"] for u in found]}
        self._save_draft(user, ReminderPrompt.KIND, draft)
        return self._ask_kind(self.text("rem_units_found", units=", ".join(draft["unit_names"])))

    @prompt(ReminderPrompt.WHEN, role="inspector")
    def when_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._when_typed(user, draft, text.strip())

    @prompt(ReminderPrompt.EDIT, role="inspector")
    def edit_typed(self, user: User, data: dict, text: str) -> Reply:
        self.storage.clear_prompt(user.id)
        rid, text = data.get("id"), text.strip()
        if isinstance(rid, int) and self.storage.get_reminder(rid) and len(text) >= 3:
            self.storage.update_reminder(rid, text=text[:1000])
            self.storage.audit(user.id, "reminder.edit", str(rid))
        return self.home(user)

    @prompt(ReminderPrompt.TARGET, role="inspector")
    def target_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._button_expected(user)

    @prompt(ReminderPrompt.KIND, role="inspector")
    def kind_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._button_expected(user)

    @prompt(ReminderPrompt.CONFIRM, role="inspector")
    def confirm_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._button_expected(user)

    def _button_expected(self, user: User) -> Reply:
        """Text typed while the wizard waits for a button: drop the draft, show the list."""
        self.storage.clear_prompt(user.id)
        return self.home(user)

    def _ask_target(self) -> Reply:
        rows = [[TARGET.button(self.text("rem_t_all"), "all")], [TARGET.button(self.text("rem_t_province"), "province")],
                [TARGET.button(self.text("rem_t_not_done"), "not-done")],
                [TARGET.button(self.text("rem_t_units"), "units")], *self._cancel_row()]
        return Reply(buttons=rows).add(self.text("rem_ask_target"))

    @TARGET
    def target(self, user: User, target: str) -> Reply | None:
        draft = self._draft(user)
        if "text" not in draft:
            return None
        if target == "all":
            draft.update(target="all", target_arg="")
        elif target == "province":
            unit = self.storage.unit_of(user.id)
            code = unit["province_code"] if unit else (self.ctx.province.code if self.ctx.province else None)
            if code is None:
                return None
            draft.update(target="province", target_arg=str(code))
        elif target == "not-done":
            self._save_draft(user, ReminderPrompt.TARGET, draft)
            rows = [[CHECKLIST.button(short(c.title, 60), c.id)] for c in self.kb.checklists.values()]
            return Reply(buttons=rows + self._cancel_row(), mode="edit").add(self.text("rem_ask_checklist"))
        else:
            self._save_draft(user, ReminderPrompt.UNITS, draft)
            return Reply(buttons=self._cancel_row(), mode="edit").add(self.text("rem_ask_units"))
        self._save_draft(user, ReminderPrompt.KIND, draft)
        return self._ask_kind()

    @CHECKLIST
    def checklist(self, user: User, checklist_id: str) -> Reply | None:
        draft = self._draft(user)
        if "text" not in draft or checklist_id not in self.kb.checklists:
            return None
        self._save_draft(user, ReminderPrompt.KIND, {**draft, "target": "not-done", "target_arg": checklist_id})
        return self._ask_kind()

    def _ask_kind(self, prefix: str = "") -> Reply:
        rows = [[QUICK.button(self.text("rem_k_now"), "now"), QUICK.button(self.text("rem_k_tomorrow"), "tomorrow")],
                [KIND.button(self.text("rem_k_once"), "once")],
                [KIND.button(self.text("rem_k_weekly"), "weekly"), KIND.button(self.text("rem_k_monthly"), "monthly")],
                [KIND.button(self.text("rem_k_event"), "event")], *self._cancel_row()]
        return Reply(buttons=rows).add((prefix + "\n\n" if prefix else "") + self.text("rem_ask_kind"))

    @KIND
    def kind(self, user: User, kind: str) -> Reply | None:
        draft = self._draft(user)
        if "target" not in draft:
            return None
        draft["kind"] = kind
        if kind == "event":
            self._save_draft(user, ReminderPrompt.KIND, draft)
            rows = [[EVENT.button(short(e.title, 60), e.id)] for e in self.kb.calendar if e.start]
            return Reply(buttons=rows + self._cancel_row(), mode="edit").add(self.text("rem_ask_event"))
        self._save_draft(user, ReminderPrompt.WHEN, draft)
        return Reply(buttons=self._cancel_row(), mode="edit").add(self.text(f"rem_ask_{kind}"))

    @EVENT
    def event(self, user: User, event_id: str) -> Reply | None:
        draft = self._draft(user)
        if draft.get("kind") != "event" or not any(e.id == event_id for e in self.kb.calendar):
            return None
        self._save_draft(user, ReminderPrompt.WHEN, {**draft, "event": event_id})
        return Reply(buttons=self._cancel_row(), mode="edit").add(self.text("rem_ask_event_days"))

    @QUICK
    def quick(self, user: User, when: str) -> Reply | None:
        draft = self._draft(user)
        if "target" not in draft:
            return None
        now = self.ctx.now()
        if when == "now":
            at = now + timedelta(seconds=2)
        else:
            at = _at(now.date() + timedelta(days=1), "08:00", self.ctx.tz)
        draft.update(kind="once", at=at.isoformat(timespec="minutes" if when != "now" else "seconds"))
        return self._confirm(user, draft)

    def _when_typed(self, user: User, draft: dict, text: str) -> Reply:
        kind = draft.get("kind")
        try:
            if kind == "once":
                at = parse_datetime(text, self.ctx.tz)
                if at <= self.ctx.now():
                    raise ScheduleError("past")
                draft["at"] = at.isoformat(timespec="minutes")
            elif kind == "weekly":
                m = re.search(r"(?:thu|t)\s*([2-7]|cn|chu nhat)", fold(text))
                if not m:
                    raise ScheduleError("weekly")
                day = m.group(1)
                draft["weekday"] = 6 if day in ("cn", "chu nhat") else int(day) - 2
                draft["time"] = parse_time(text)
            elif kind in ("monthly", "event"):
                m = re.search(r"(\d{1,3})\D+?(\d{1,2}[:h]\d{2})", _fold_keep_colon(text))
                limit = 31 if kind == "monthly" else 365
                if not m or not (1 if kind == "monthly" else 0) <= int(m.group(1)) <= limit:
                    raise ScheduleError(kind)
                draft["monthday" if kind == "monthly" else "days_before"] = int(m.group(1))
                draft["time"] = parse_time(m.group(2))
            else:
                raise ScheduleError("format")
        except ScheduleError as exc:
            key = {"past": "rem_err_past", "time": "rem_err_time"}.get(str(exc), f"rem_ask_{kind}")
            return Reply(buttons=self._cancel_row()).add(self.text("rem_err") + "\n" + self.text(key))
        return self._confirm(user, draft)

    def _confirm(self, user: User, draft: dict) -> Reply:
        rem = _as_row(draft)
        if next_run(rem, self.ctx.now(), self.kb, self.ctx.tz) is None:
            return Reply(buttons=self._cancel_row()).add(self.text("rem_err_past"))
        self._save_draft(user, ReminderPrompt.CONFIRM, draft)
        n = len(self.storage.recipients(rem["target"], rem["target_arg"]))
        text = self.text("rem_confirm", text=draft["text"], schedule=describe(rem, self.kb),
                         target=self._target_label(rem), n=n)
        return Reply(buttons=[[SAVE.button(self.text("rem_save")), CANCEL.button(self.text("btn_cancel"))]]).add(text)

    @SAVE
    def save(self, user: User) -> Reply | None:
        pending = self.storage.get_prompt(user.id)
        if not pending or pending[0] != ReminderPrompt.CONFIRM:
            return None
        draft = pending[1]
        row = _as_row(draft)
        nxt = next_run(row, self.ctx.now(), self.kb, self.ctx.tz)
        if nxt is None:
            return None
        rid = self.storage.save_reminder({**row, "created_by": user.id, "status": "active", "next_run": nxt.isoformat()})
        self.storage.clear_prompt(user.id)
        self.storage.audit(user.id, "reminder.create", str(rid), str(draft.get("text", ""))[:200])
        if self.ctx.scheduler:
            self.ctx.scheduler.reminder(rid, nxt)
        reply = self.home(user, mode="edit")
        reply.toast = self.text("rem_saved")
        return reply

    @CANCEL
    def cancel(self, user: User) -> Reply:
        self.storage.clear_prompt(user.id)
        return Reply(mode="edit").add(self.text("rem_cancelled"))

    def _set_status(self, user: User, rid: int, status: str) -> Reply | None:
        rem = self.storage.get_reminder(rid)
        if rem is None or rem["status"] not in ("active", "paused"):
            return None
        nxt = next_run(rem, self.ctx.now(), self.kb, self.ctx.tz) if status == "active" else None
        self.storage.update_reminder(rem["id"], status=status if (status != "active" or nxt) else "done",
                                     next_run=nxt.isoformat() if nxt else rem["next_run"])
        self.storage.audit(user.id, f"reminder.{status}", str(rid))
        if self.ctx.scheduler:
            self.ctx.scheduler.reminder(rem["id"], nxt if status == "active" else None)
        return self.home(user, mode="edit")

    @PAUSE
    def pause(self, user: User, rid: int) -> Reply | None:
        return self._set_status(user, rid, "paused")

    @RESUME
    def resume(self, user: User, rid: int) -> Reply | None:
        return self._set_status(user, rid, "active")

    @DELETE
    def delete(self, user: User, rid: int) -> Reply | None:
        return self._set_status(user, rid, "cancelled")

    @EDIT
    def edit(self, user: User, rid: int) -> Reply | None:
        if not self.storage.get_reminder(rid):
            return None
        self.storage.set_prompt(user.id, ReminderPrompt.EDIT, {"id": rid})
        return Reply(buttons=self._cancel_row()).add(self.text("rem_ask_edit", id=rid))

    @REPORT
    def report(self, user: User, rid: int) -> Reply | None:
        b = self.storage.latest_broadcast_of(rid)
        if b is None:
            return Reply().add(self.text("rem_report_none")) if self.storage.get_reminder(rid) else None
        return self.report_reply(b["id"])

    def report_reply(self, broadcast_id: int) -> Reply:
        """The delivery report, with «gửi lại cho người chưa rõ» when a crash left some unknown."""
        reply = Reply().add(self.broadcast_report(broadcast_id))
        b = self.storage.get_broadcast(broadcast_id)
        if b and b["unknown"]:
            reply.buttons = [[RESEND.button(self.text("bc_btn_resend", n=b["unknown"]), broadcast_id)]]
        return reply

    @RESEND
    def resend_unknown(self, user: User, broadcast_id: int) -> Reply | None:
        """Send again to the recipients whose delivery is unknown (a crash mid-send): the sender's choice,
        since some of them may have the message already."""
        n = self.storage.retry_unknown(broadcast_id)
        if not n:
            return Reply().add(self.text("bc_resend_none"))
        self.storage.audit(user.id, "broadcast.resend", str(broadcast_id), f"{n} unknown")
        if self.ctx.scheduler:
            self.ctx.scheduler.broadcast(broadcast_id)
        return Reply().add(self.text("bc_resend_started", n=n))

    def broadcast_report(self, broadcast_id: int) -> str:
        b = self.storage.get_broadcast(broadcast_id)
        return self.text("bc_report", title=short(b["text"].split("\n")[0], 50), total=b["total"], sent=b["sent"],
                         failed=b["failed"], blocked=b["blocked"], unknown=b["unknown"],
                         late=self.text("bc_late") if b["late"] else "")

    def broadcast_progress(self, broadcast_id: int, done: int, total: int) -> str:
        from babel.numbers import format_decimal

        b = self.storage.get_broadcast(broadcast_id)
        return self.text("bc_progress", title=short(b["text"].split("\n")[0], 50),
                         done=format_decimal(done, locale="vi"), total=format_decimal(total, locale="vi"))

    # -------------------------------------------------------------- firing

    def fire(self, reminder_id: int) -> tuple[int | None, bool]:
        """Create the broadcast of the reminder's current occurrence (idempotent) and move to the next one.

        Returns (broadcast id or None when it was already created, late?)."""
        rem = self.storage.get_reminder(reminder_id)
        if rem is None or rem["status"] != "active" or not rem["next_run"]:
            return None, False
        now = self.ctx.now()
        due = datetime.fromisoformat(rem["next_run"])
        if due > now:
            return None, False
        late = now - due > LATE_AFTER
        text = rem["text"] + ("\n\n" + self.text("rem_late_note") if late else "")
        users = self.storage.recipients(rem["target"], rem["target_arg"] or "")
        bid = self.storage.create_broadcast(rem["id"], rem["next_run"], rem["created_by"], text, users, late=late)
        nxt = next_run(rem, now, self.kb, self.ctx.tz)
        self.storage.update_reminder(rem["id"], last_run=rem["next_run"], next_run=nxt.isoformat() if nxt else None,
                                     status="active" if nxt else "done")
        if self.ctx.scheduler and nxt:
            self.ctx.scheduler.reminder(rem["id"], nxt)
        return bid, late


def _as_row(draft: dict) -> dict:
    return {"kind": draft.get("kind"), "at": draft.get("at"), "weekday": draft.get("weekday"),
            "monthday": draft.get("monthday"), "time": draft.get("time"), "event": draft.get("event"),
            "days_before": draft.get("days_before"), "text": draft.get("text", ""),
            "target": draft.get("target", "all"), "target_arg": draft.get("target_arg", "")}


def _fold_keep_colon(text: str) -> str:
    """Folded text that keeps '08:30' intact (fold() drops punctuation)."""
    return " ".join(fold(part) if ":" not in part else part for part in text.split())
