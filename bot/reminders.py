"""Reminders for the inspection team: schedules, the creation wizard, and firing them as broadcasts.

A reminder has a target (everyone; a province; units that have not finished checklist X; chosen
units) and a schedule (once at a date and time; weekly; monthly; N days before the deadline of an
item of the yearly calendar), typed the way officials write it ("15/12 8h", "thứ Hai 8h", "trước
7 ngày", see :mod:`bot.when`); the confirmation shows the next send date before anything is saved.
Reminders live in SQLite with their next run time; the front-end's job queue wakes
:meth:`Reminders.fire` at that time. A reminder that fell due while the bot was down is fired once
at start-up, marked late; the (reminder, occurrence) pair is unique, so never twice. Each goes out
signed by its sender with «Đã nhận» and a link to what it is about (:mod:`bot.notices`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot import nav
from bot.actions import Action, Choice, Feature, Id, Slug, command, prompt
from bot.checklists import OPEN as OPEN_CHECKLIST
from bot.home import home_row
from bot.knowledge import KnowledgeBase
from bot.notices import signature
from bot.progress import SILENT_DAYS
from bot.reply import Button, Reply, Section, User, short
from bot.when import (
    EIGHT,
    WhenError,
    parse_monthly,
    parse_offset,
    parse_weekly,
    parse_when,
    vi_date,
    vi_datetime,
    vi_weekday,
)

KINDS = ("once", "weekly", "monthly", "event")
LATE_AFTER = timedelta(minutes=5)
LAST_DAY = 31  # "cuối tháng": a shorter month sends on its last day
RECENT_DAYS = 14  # a reminder sent for the last time stays listed this long, for its report
# The longest reminder text: it goes out with the sender's signature, a late note and its buttons in one
# Telegram message (4,096 characters after HTML escaping) and in at most two Zalo pages (2,000 each).
MAX_TEXT_CHARS = 3000
MIN_TEXT_CHARS = 3
STATES = {"paused": "rem_paused", "done": "rem_done"}


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
        found = event_send(rem, after, kb, tz)
        return found[0] if found else None
    return None


def event_send(rem: dict, after: datetime, kb: KnowledgeBase, tz) -> tuple[datetime, date] | None:
    """The first send of an event reminder strictly after ``after``, and the deadline it is for: N days
    before the end of the item's window, since the end is the deadline people must meet (counting from
    the start sent the yearly report's reminder in October)."""
    from bot.yearly import occurrences

    event = _event(kb, rem["event"])
    for year in range(after.year, after.year + 3) if event else ():  # up to 365 days before a January deadline
        for _, deadline in occurrences(event, year):
            candidate = _at(deadline - timedelta(days=rem["days_before"]), rem["time"], tz)
            if candidate > after:
                return candidate, deadline
    return None


def _event(kb: KnowledgeBase, event_id: str):
    return next((e for e in kb.calendar if e.id == event_id), None)


def describe(rem: dict, kb: KnowledgeBase, tz) -> str:
    """The schedule in Vietnamese, e.g. 'Hằng tuần: thứ Hai, 08:00', dates in ``tz``."""
    kind = rem["kind"]
    if kind == "once":
        return kb.text("rem_once", when=vi_datetime(datetime.fromisoformat(rem["at"]), tz))
    if kind == "weekly":
        monday = date(2024, 1, 1)  # a Monday
        return kb.text("rem_weekly", day=vi_weekday(monday + timedelta(days=rem["weekday"])), time=rem["time"])
    if kind == "monthly":
        if rem["monthday"] == LAST_DAY:
            return kb.text("rem_monthly_last", time=rem["time"])
        return kb.text("rem_monthly", day=rem["monthday"], time=rem["time"])
    event = _event(kb, rem["event"])
    title = event.title if event else rem["event"]
    if not rem["days_before"]:
        return kb.text("rem_event_on", event=title, time=rem["time"])
    return kb.text("rem_event", days=rem["days_before"], event=title, time=rem["time"])


LIST = Action("rl", role="inspector", name="reminder.list")
NEW = Action("rn", role="inspector", name="reminder.new")
TARGET = Action(
    "rt",
    Choice("target", "all", "province", "not-done", "units", "silent", "overdue"),
    role="inspector",
    name="reminder.target",
)
CHECKLIST = Action("rc", Slug("checklist"), role="inspector", name="reminder.checklist")
KIND = Action("rs", Choice("kind", *KINDS), role="inspector", name="reminder.kind")
EVENT = Action("ri", Slug("event"), role="inspector", name="reminder.event")
QUICK = Action("rq", Choice("when", "now", "tomorrow"), role="inspector", name="reminder.quick")
SAVE = Action("rk", role="inspector", name="reminder.save")
CANCEL = Action("rx", role="inspector", name="reminder.cancel")
PAUSE = Action("rp", Id("reminder"), role="inspector", name="reminder.pause")
RESUME = Action("ru", Id("reminder"), role="inspector", name="reminder.resume")
DELETE = Action("rz", Id("reminder"), role="inspector", name="reminder.delete")
DELETE_YES = Action("ry", Id("reminder"), role="inspector", name="reminder.delete-confirmed")
EDIT = Action("re", Id("reminder"), role="inspector", name="reminder.edit")
REPORT = Action("rv", Id("reminder"), role="inspector", name="reminder.report")
RESEND = Action("rw", Id("broadcast"), role="inspector", name="broadcast.resend-unknown")


class ReminderPrompt(StrEnum):
    """The steps of the /nhacviec wizard; the draft reminder is the prompt's data."""

    TEXT = "rem_text"  # waiting for the message
    TARGET = "rem_target"  # waiting for a target button
    UNITS = "rem_units"  # waiting for unit names
    KIND = "rem_kind"  # waiting for a schedule button
    WHEN = "rem_when"  # waiting for a date/time
    CONFIRM = "rem_confirm"  # waiting for «Lưu»
    EDIT = "rem_edit"  # waiting for the new text of reminder {"id"}


class Reminders(Feature):
    """The /nhacviec wizard and list (inspectors and admins only; every action re-checks the role)."""

    def _cancel_row(self) -> list[list[Button]]:
        return [[CANCEL.button(self.text("btn_cancel"))]]

    # -------------------------------------------------------------- list

    @command("nhacviec", role="inspector", needs_db=True, advertised=False, shortcut="reminders")
    def home(self, user: User, arg: str = "", mode: str = "send") -> Reply:
        rows = [[NEW.button(self.text("rem_new"))]]
        r = Reply(mode=mode).add(self.text("rem_title") + "\n", "b")
        items = self._listed()
        if not items:
            r.add(self.text("rem_none"))
        for rem in items:
            state = self.text(STATES[rem["status"]]) if rem["status"] in STATES else ""
            r.add(f"\n#{rem['id']} {short(rem['text'], 60)}\n", "b")
            r.add(f"{describe(rem, self.kb, self.ctx.tz)} · {self._target_label(rem)}{state}\n{self._fmt_next(rem)}\n")
            rows += self._item_rows(rem)
        rows.append(home_row(self.ctx))
        r.buttons = rows
        return r

    def _listed(self) -> list[dict]:
        """Active and paused reminders, and those sent for the last time in the past RECENT_DAYS: their
        report still counts who presses «Đã nhận»."""
        since = self.ctx.now() - timedelta(days=RECENT_DAYS)
        return [
            rem
            for rem in self.storage.reminders(("active", "paused", "done"))
            if rem["status"] != "done" or (rem["last_run"] and datetime.fromisoformat(rem["last_run"]) >= since)
        ]

    def _item_rows(self, rem: dict) -> list[list[Button]]:
        """Two rows of worded buttons per reminder ("⏸ Tạm dừng #3"): icons alone said too little. A
        reminder that is done keeps its report."""
        rid = rem["id"]
        if rem["status"] == "done":
            return [[REPORT.button(self.text("rem_btn_report", id=rid), rid)]]
        toggle = (
            RESUME.button(self.text("rem_btn_resume", id=rid), rid)
            if rem["status"] == "paused"
            else PAUSE.button(self.text("rem_btn_pause", id=rid), rid)
        )
        return [
            [REPORT.button(self.text("rem_btn_report", id=rid), rid), toggle],
            [
                EDIT.button(self.text("rem_btn_edit", id=rid), rid),
                DELETE.button(self.text("rem_btn_delete", id=rid), rid),
            ],
        ]

    @LIST
    def listed(self, user: User) -> Reply:
        return self.home(user, mode="edit")

    def my_work(self, user: User) -> Section | None:
        """The reminders of the inspection team that will reach this person next, for "Việc của tôi"."""
        coming = [r for r in self.storage.reminders(("active",)) if r["next_run"] and user.id in self._recipients(r)]
        if not coming:
            return None
        coming.sort(key=lambda r: r["next_run"])
        section = Section(self.text("mw_reminders"))
        for rem in coming[:3]:
            section.lines.append(f"{short(rem['text'], 80)} — {self._fmt_next(rem)}")
        return section

    def _fmt_next(self, rem: dict) -> str:
        if rem["status"] != "active" or not rem["next_run"]:
            return self.text("rem_no_next")
        return self.text("rem_next", when=vi_datetime(datetime.fromisoformat(rem["next_run"]), self.ctx.tz))

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
        if target == "silent":
            return self.text("rem_t_silent_named", days=arg or SILENT_DAYS)
        if target == "overdue":
            return self.text("rem_t_overdue_named")
        return self.text("rem_t_all")

    def _recipients(self, rem: dict) -> list[int]:
        """Who a reminder reaches now: silent units and overdue tasks are counted at each send."""
        return self.storage.recipients(rem["target"], rem["target_arg"] or "", today=self.ctx.today().isoformat())

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
        refused = self._text_refused(text)
        if refused:
            return Reply(buttons=self._cancel_row()).add(refused + "\n" + self.text("rem_ask_text"))
        self._save_draft(user, ReminderPrompt.TARGET, {**draft, "text": text})
        return self._ask_target()

    def _text_refused(self, text: str) -> str:
        """Why a reminder text cannot be used as typed ("" when it can): never cut it silently."""
        if len(text) < MIN_TEXT_CHARS:
            return self.text("rem_text_short")
        if len(text) > MAX_TEXT_CHARS:
            return self.text("rem_text_long", n=_count(len(text)), limit=_count(MAX_TEXT_CHARS))
        return ""

    @prompt(ReminderPrompt.UNITS, role="inspector")
    def units_typed(self, user: User, draft: dict, text: str) -> Reply:
        from bot.units import match_registered_names  # the units module is loaded only where units are named

        found, missed = match_registered_names(self.storage.all_units(), text)
        if not found:
            return Reply(buttons=self._cancel_row()).add(self.text("rem_units_none"))
        draft = {
            **draft,
            "target": "units",
            "target_arg": ",".join(str(u["id"]) for u in found),
            "unit_names": [u["name"] for u in found],
        }
        self._save_draft(user, ReminderPrompt.KIND, draft)
        note = "\n" + self.text("tq_missed", names=", ".join(f"«{m}»" for m in missed)) if missed else ""
        return self._ask_kind(self.text("rem_units_found", units=", ".join(draft["unit_names"])) + note)

    @prompt(ReminderPrompt.WHEN, role="inspector")
    def when_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._when_typed(user, draft, text.strip())

    @prompt(ReminderPrompt.EDIT, role="inspector")
    def edit_typed(self, user: User, data: dict, text: str) -> Reply:
        """The new text of a reminder; one that cannot be used is refused with the reason, still waiting."""
        rid, text = data.get("id"), text.strip()
        if not isinstance(rid, int) or not self.storage.get_reminder(rid):
            self.storage.clear_prompt(user.id)
            return self.home(user)
        refused = self._text_refused(text)
        if refused:
            return Reply(buttons=self._cancel_row()).add(refused + "\n" + self.text("rem_ask_edit", id=rid))
        self.storage.clear_prompt(user.id)
        self.storage.update_reminder(rid, text=text)
        self.storage.audit(user.id, "reminder.edit", str(rid))
        return self.home(user).prepend(self.text("rem_edited", id=rid))

    @prompt(ReminderPrompt.TARGET, role="inspector")
    def target_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._button_expected(user)

    @prompt(ReminderPrompt.KIND, role="inspector")
    def kind_typed(self, user: User, draft: dict, text: str) -> Reply:
        return self._button_expected(user)

    @prompt(ReminderPrompt.CONFIRM, role="inspector")
    def confirm_typed(self, user: User, draft: dict, text: str) -> Reply:
        """Text typed at the confirmation keeps the draft: a date or time that reads is the new
        schedule (confirmed again); anything else gets how to save or cancel, and the confirmation."""
        kind = str(draft.get("kind"))
        try:
            changed = {**draft, **self._schedule(kind, text.strip())}
        except WhenError as exc:
            why = "" if exc.key == "when_err_unknown" else self.text(exc.key, **exc.values) + "\n"
            return self._confirm(user, draft).prepend(why + self.say(user, "rem_confirm_waiting"))
        if next_run(_as_row(changed), self.ctx.now(), self.kb, self.ctx.tz) is None:
            return self._confirm(user, draft).prepend(self.text("rem_err_past"))
        return self._confirm(user, changed).prepend(self.text("rem_schedule_changed"))

    def _button_expected(self, user: User) -> Reply:
        """Text typed while the wizard waits for a button: drop the draft, show the list."""
        self.storage.clear_prompt(user.id)
        return self.home(user)

    def _ask_target(self) -> Reply:
        rows = [
            [TARGET.button(self.text("rem_t_all"), "all")],
            [TARGET.button(self.text("rem_t_province"), "province")],
            [TARGET.button(self.text("rem_t_not_done"), "not-done")],
            [TARGET.button(self.text("rem_t_units"), "units")],
            [TARGET.button(self.text("rem_t_silent", days=SILENT_DAYS), "silent")],
            [TARGET.button(self.text("rem_t_overdue"), "overdue")],
            *self._cancel_row(),
        ]
        return Reply(buttons=rows).add(self.text("rem_ask_target"))

    @TARGET
    def target(self, user: User, target: str) -> Reply | None:
        draft = self._draft(user)
        if "text" not in draft:
            return None
        if target in ("all", "overdue"):
            draft.update(target=target, target_arg="")
        elif target == "silent":
            draft.update(target="silent", target_arg=str(SILENT_DAYS))
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
        rows = [
            [QUICK.button(self.text("rem_k_now"), "now"), QUICK.button(self.text("rem_k_tomorrow"), "tomorrow")],
            [KIND.button(self.text("rem_k_once"), "once")],
            [KIND.button(self.text("rem_k_weekly"), "weekly"), KIND.button(self.text("rem_k_monthly"), "monthly")],
            [KIND.button(self.text("rem_k_event"), "event")],
            *self._cancel_row(),
        ]
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
        return Reply(buttons=self._cancel_row(), mode="edit").add(self.text(_ask(kind)))

    @EVENT
    def event(self, user: User, event_id: str) -> Reply | None:
        draft = self._draft(user)
        if draft.get("kind") != "event" or not any(e.id == event_id for e in self.kb.calendar):
            return None
        self._save_draft(user, ReminderPrompt.WHEN, {**draft, "event": event_id})
        return Reply(buttons=self._cancel_row(), mode="edit").add(self.text(_ask("event")))

    @QUICK
    def quick(self, user: User, when: str) -> Reply | None:
        """«Gửi ngay» (sent the moment «Lưu» is pressed, however long the confirmation waits) or 8:00
        tomorrow."""
        draft = self._draft(user)
        if "target" not in draft:
            return None
        if when == "now":
            draft.update(kind="once", at=None, now=True)
        else:
            draft.update(
                kind="once",
                at=_at(self.ctx.today() + timedelta(days=1), "08:00", self.ctx.tz).isoformat(timespec="minutes"),
                now=False,
            )
        return self._confirm(user, draft)

    def _when_typed(self, user: User, draft: dict, text: str) -> Reply:
        """One free-text answer for the schedule; what cannot be read one way gets the reason and the
        question again, with its examples."""
        kind = str(draft.get("kind"))
        try:
            draft = {**draft, **self._schedule(kind, text)}
        except WhenError as exc:
            return Reply(buttons=self._cancel_row()).add(
                self.text(exc.key, **exc.values) + "\n" + self.text(_ask(kind))
            )
        return self._confirm(user, draft)

    def _schedule(self, kind: str, text: str) -> dict:
        """The draft's schedule fields from what was typed; 08:00 when no time is typed, as each prompt says.
        ("now": False, since an older «Một lần» button may be pressed after «Gửi ngay».)"""
        if kind == "once":
            return {"at": parse_when(text, self.ctx.now(), EIGHT).isoformat(timespec="minutes"), "now": False}
        if kind == "weekly":
            weekday, at = parse_weekly(text, EIGHT)
            return {"weekday": weekday, "time": _hhmm(at)}
        if kind == "monthly":
            monthday, at = parse_monthly(text, EIGHT)
            return {"monthday": monthday, "time": _hhmm(at)}
        days, at = parse_offset(text, EIGHT)
        return {"days_before": days, "time": _hhmm(at)}

    def _confirm(self, user: User, draft: dict) -> Reply:
        """The reminder as it will be saved, with the next send date (and, for a calendar item, whether
        this year's date has already passed), before anything is saved."""
        rem, now = _as_row(draft), self.ctx.now()
        nxt = None if draft.get("now") else next_run(rem, now, self.kb, self.ctx.tz)
        if nxt is None and not draft.get("now"):
            return Reply(buttons=self._cancel_row()).add(self.text("rem_err_past"))
        self._save_draft(user, ReminderPrompt.CONFIRM, draft)
        n = len(self._recipients(rem))
        schedule = self.text("rem_k_now") if draft.get("now") else describe(rem, self.kb, self.ctx.tz)
        when = self.say(user, "rem_next_now") if draft.get("now") or nxt is None else vi_datetime(nxt, self.ctx.tz)
        text = self.text(
            "rem_confirm",
            text=draft["text"],
            schedule=schedule,
            next=self.text("rem_next", when=when),
            target=self._target_label(rem),
            n=n,
        )
        rows = [[SAVE.button(self.text("rem_save")), CANCEL.button(self.text("btn_cancel"))]]
        note = self._passed_note(rem, now) if rem["kind"] == "event" else ""
        if note:
            rows.append([QUICK.button(self.text("rem_k_now"), "now")])
        return Reply(buttons=rows).add(text + (f"\n\n{note}" if note else ""))

    def _passed_note(self, rem: dict, now: datetime) -> str:
        """Say plainly when the next send is not for the deadline the user has in mind, this year's next
        one: that deadline has passed, or the day N days before it has."""
        from bot.yearly import occurrences

        found = event_send(rem, now, self.kb, self.ctx.tz)
        ends = [end for _, end in occurrences(_event(self.kb, rem["event"]), now.year)]
        ahead = [end for end in ends if end >= now.date()]
        if found is None or not ends or (ahead and found[1] == ahead[0]):
            return ""
        sent_for = {"next": vi_date(found[1]), "when": vi_datetime(found[0], self.ctx.tz)}
        if not ahead:
            return self.text("rem_event_passed", deadline=vi_date(ends[-1]), **sent_for)
        day = ahead[0] - timedelta(days=rem["days_before"])
        return self.text("rem_event_rolled", deadline=vi_date(ahead[0]), day=vi_date(day), **sent_for)

    @SAVE
    def save(self, user: User) -> Reply | None:
        pending = self.storage.get_prompt(user.id)
        if not pending or pending[0] != ReminderPrompt.CONFIRM:
            return None
        draft = pending[1]
        row, now = _as_row(draft), self.ctx.now()
        if draft.get("now"):
            row["at"] = now.isoformat(timespec="seconds")
        nxt = now if draft.get("now") else next_run(row, now, self.kb, self.ctx.tz)
        if nxt is None:
            return None
        rid = self.storage.save_reminder(
            {**row, "created_by": user.id, "status": "active", "next_run": nxt.isoformat()}
        )
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
        self.storage.update_reminder(
            rem["id"],
            status=status if (status != "active" or nxt) else "done",
            next_run=nxt.isoformat() if nxt else rem["next_run"],
        )
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
        """«Xoá #N» asks first, naming the reminder, so a number typed on an older list deletes nothing."""
        rem = self.storage.get_reminder(rid)
        if rem is None or rem["status"] not in ("active", "paused"):
            return self._deleted_already(rid)
        rows = [
            [DELETE_YES.button(self.text("rem_btn_delete_yes", id=rid), rid)],
            [LIST.button(self.text("rem_btn_keep"))],
        ]
        return Reply(buttons=rows, mode="edit").add(
            self.text(
                "rem_delete_ask", id=rid, text=short(rem["text"], 80), schedule=describe(rem, self.kb, self.ctx.tz)
            )
        )

    @DELETE_YES
    def delete_confirmed(self, user: User, rid: int) -> Reply | None:
        """Delete the reminder named on the confirmation, and say so; the list comes from its own button,
        so the numbers the user saw before do not move under their fingers."""
        rem = self.storage.get_reminder(rid)
        if rem is None or rem["status"] not in ("active", "paused"):
            return self._deleted_already(rid)
        self.storage.update_reminder(rid, status="cancelled")
        self.storage.audit(user.id, "reminder.cancelled", str(rid))
        if self.ctx.scheduler:
            self.ctx.scheduler.reminder(rid, None)
        rows = [[LIST.button(self.text("rem_btn_list"))], home_row(self.ctx)]
        reply = Reply(buttons=rows, mode="edit").add(self.text("rem_deleted", id=rid, text=short(rem["text"], 80)))
        reply.toast = self.text("rem_deleted_toast", id=rid)
        return reply

    def _deleted_already(self, rid: int) -> Reply:
        rows = [[LIST.button(self.text("rem_btn_list"))], home_row(self.ctx)]
        return Reply(buttons=rows).add(self.text("rem_delete_gone", id=rid))

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
        if b is None:
            raise ValueError(f"no broadcast {broadcast_id}")
        return self.text(
            "bc_report",
            title=short(b["text"].split("\n")[0], 50),
            total=b["total"],
            sent=b["sent"],
            failed=b["failed"],
            blocked=b["blocked"],
            unknown=b["unknown"],
            acked=self.storage.acknowledged(broadcast_id),
            late=self.text("bc_late") if b["late"] else "",
        )

    def broadcast_progress(self, broadcast_id: int, done: int, total: int) -> str:
        from babel.numbers import format_decimal

        b = self.storage.get_broadcast(broadcast_id)
        if b is None:
            raise ValueError(f"no broadcast {broadcast_id}")
        return self.text(
            "bc_progress",
            title=short(b["text"].split("\n")[0], 50),
            done=format_decimal(done, locale="vi"),
            total=format_decimal(total, locale="vi"),
        )

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
        text = (
            rem["text"]
            + ("\n\n" + self.text("rem_late_note") if late else "")
            + "\n\n"
            + signature(self.kb, self.storage, rem["created_by"])
        )
        users = self._recipients(rem)
        bid = self.storage.create_broadcast(
            rem["id"], rem["next_run"], rem["created_by"], text, users, late=late, links=self._links(rem)
        )
        nxt = next_run(rem, now, self.kb, self.ctx.tz)
        self.storage.update_reminder(
            rem["id"],
            last_run=rem["next_run"],
            next_run=nxt.isoformat() if nxt else None,
            status="active" if nxt else "done",
        )
        if self.ctx.scheduler and nxt:
            self.ctx.scheduler.reminder(rem["id"], nxt)
        return bid, late

    def _links(self, rem: dict) -> list[tuple[str, str]]:
        """Buttons to what the reminder is about: the calendar for a calendar item, the checklist the
        unit has not finished."""
        links = []
        if rem["kind"] == "event":
            links.append((self.text("bc_link_calendar"), nav.CALENDAR.data()))
        if rem["target"] == "overdue":
            links.append((self.text("bc_link_my_work"), nav.MY_WORK.data()))
        checklist = self.kb.checklists.get(rem["target_arg"] or "") if rem["target"] == "not-done" else None
        if checklist:
            links.append(
                (short(self.text("bc_link_checklist", checklist=checklist.title)), OPEN_CHECKLIST.data(checklist.id))
            )
        return links


def _ask(kind: str) -> str:
    """The question (with examples) for the schedule of ``kind``; an event's is about the days before it."""
    return "rem_ask_event_days" if kind == "event" else f"rem_ask_{kind}"


def _count(n: int) -> str:
    """A number of characters as Vietnamese writes it: 3.000."""
    return f"{n:,}".replace(",", ".")


def _hhmm(at: time) -> str:
    return f"{at:%H:%M}"


def _as_row(draft: dict) -> dict:
    return {
        "kind": draft.get("kind"),
        "at": draft.get("at"),
        "weekday": draft.get("weekday"),
        "monthday": draft.get("monthday"),
        "time": draft.get("time"),
        "event": draft.get("event"),
        "days_before": draft.get("days_before"),
        "text": draft.get("text", ""),
        "target": draft.get("target", "all"),
        "target_arg": draft.get("target_arg", ""),
    }
