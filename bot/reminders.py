"""Reminders for the inspection team: schedules, the creation wizard, and firing them as broadcasts.

A reminder has a target (everyone; a province; units that have not finished checklist X; chosen
units) and a schedule (once at a date and time; weekly; monthly; N days before an event of the
yearly calendar). Reminders live in SQLite with their next run time; the front-end's job queue
wakes :meth:`ReminderScreens.fire` at that time. A reminder that fell due while the bot was down is
fired once at start-up, marked late; the (reminder, occurrence) pair is unique, so never twice.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta

from bot.knowledge import KnowledgeBase
from bot.reply import Button, Reply, User, short
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


class ReminderScreens:
    """The /nhacviec wizard and list (inspectors and admins only; the Core checks the role first)."""

    def __init__(self, kb: KnowledgeBase, storage, now, tz, default_province):
        self.kb = kb
        self.storage = storage
        self.now = now
        self.tz = tz
        self.default_province = default_province
        self.scheduler = None

    # -------------------------------------------------------------- list

    def home(self, user: User, mode: str = "send") -> Reply:
        rows = [[Button(self.kb.text("rem_new"), "rn")]]
        r = Reply(mode=mode).add(self.kb.text("rem_title") + "\n", "b")
        items = self.storage.reminders()
        if not items:
            r.add(self.kb.text("rem_none"))
        for rem in items:
            state = self.kb.text("rem_paused") if rem["status"] == "paused" else ""
            nxt = self._fmt_next(rem)
            r.add(f"\n#{rem['id']} {short(rem['text'], 60)}\n", "b")
            r.add(f"{describe(rem, self.kb)} · {self._target_label(rem)}{state}\n{nxt}\n")
            toggle = Button("▶️", f"ru:{rem['id']}") if rem["status"] == "paused" else Button("⏸", f"rp:{rem['id']}")
            rows.append([Button(f"#{rem['id']}", f"rv:{rem['id']}"), toggle, Button("✏️", f"re:{rem['id']}"),
                         Button("🗑", f"rz:{rem['id']}")])
        rows.append([Button(self.kb.text("btn_home"), "m")])
        r.buttons = rows
        return r

    def _fmt_next(self, rem: dict) -> str:
        from babel.dates import format_datetime

        if rem["status"] != "active" or not rem["next_run"]:
            return self.kb.text("rem_no_next")
        return self.kb.text("rem_next", when=format_datetime(datetime.fromisoformat(rem["next_run"]),
                                                             "HH:mm, EEEE, d/M/y", locale="vi"))

    def _target_label(self, rem: dict) -> str:
        target, arg = rem["target"], rem["target_arg"] or ""
        if target == "province":
            from bot.units import provinces

            p = provinces().get(int(arg)) if arg.isdigit() else None
            return self.kb.text("rem_t_province_named", province=p.name if p else arg)
        if target == "not-done":
            cl = self.kb.checklists.get(arg)
            return self.kb.text("rem_t_not_done_named", checklist=cl.title if cl else arg)
        if target == "units":
            return self.kb.text("rem_t_units_named", n=len([x for x in arg.split(",") if x]))
        return self.kb.text("rem_t_all")

    # -------------------------------------------------------------- the wizard (draft kept in user_state)

    def _draft(self, user: User) -> dict:
        state = self.storage.get_state(user.id)
        return json.loads(state[1]) if state and state[0].startswith("rem_") and state[1] else {}

    def _save_draft(self, user: User, step: str, draft: dict) -> None:
        self.storage.set_state(user.id, step, json.dumps(draft, ensure_ascii=False))

    def start(self, user: User) -> Reply:
        self._save_draft(user, "rem_text", {})
        return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]]).add(self.kb.text("rem_ask_text"))

    def on_text(self, user: User, step: str, text: str) -> Reply:
        """Text typed during the wizard: the message, the units, a date/time, or an edited text."""
        draft = self._draft(user)
        text = text.strip()
        if step == "rem_text":
            if len(text) < 3:
                return Reply().add(self.kb.text("rem_ask_text"))
            draft["text"] = text[:1000]
            self._save_draft(user, "rem_target", draft)
            return self._ask_target()
        if step == "rem_units":
            found = self._match_units(text)
            if not found:
                return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]]).add(self.kb.text("rem_units_none"))
            draft["target"], draft["target_arg"] = "units", ",".join(str(u["id"]) for u in found)
            draft["unit_names"] = [u["name"] for u in found]
            self._save_draft(user, "rem_kind", draft)
            return self._ask_kind(self.kb.text("rem_units_found", units=", ".join(draft["unit_names"])))
        if step == "rem_when":
            return self._when_typed(user, draft, text)
        if step.startswith("rem_edit:"):
            rid = int(step.split(":")[1])
            self.storage.clear_state(user.id)
            if self.storage.get_reminder(rid) and len(text) >= 3:
                self.storage.update_reminder(rid, text=text[:1000])
                self.storage.audit(user.id, "reminder.edit", str(rid))
            return self.home(user)
        self.storage.clear_state(user.id)
        return self.home(user)

    def _ask_target(self) -> Reply:
        rows = [[Button(self.kb.text("rem_t_all"), "rt:all")], [Button(self.kb.text("rem_t_province"), "rt:province")],
                [Button(self.kb.text("rem_t_not_done"), "rt:not-done")], [Button(self.kb.text("rem_t_units"), "rt:units")],
                [Button(self.kb.text("btn_cancel"), "rx")]]
        return Reply(buttons=rows).add(self.kb.text("rem_ask_target"))

    def target(self, user: User, target: str) -> Reply | None:
        draft = self._draft(user)
        if "text" not in draft:
            return None
        if target == "all":
            draft["target"], draft["target_arg"] = "all", ""
        elif target == "province":
            unit = self.storage.unit_of(user.id)
            code = unit["province_code"] if unit else (self.default_province.code if self.default_province else None)
            if code is None:
                return None
            draft["target"], draft["target_arg"] = "province", str(code)
        elif target == "not-done":
            self._save_draft(user, "rem_target", draft)
            rows = [[Button(short(c.title, 60), f"rc:{c.id}")] for c in self.kb.checklists.values()]
            return Reply(buttons=rows + [[Button(self.kb.text("btn_cancel"), "rx")]], mode="edit").add(
                self.kb.text("rem_ask_checklist"))
        elif target == "units":
            self._save_draft(user, "rem_units", draft)
            return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]], mode="edit").add(self.kb.text("rem_ask_units"))
        else:
            return None
        self._save_draft(user, "rem_kind", draft)
        return self._ask_kind()

    def checklist(self, user: User, checklist_id: str) -> Reply | None:
        draft = self._draft(user)
        if "text" not in draft or checklist_id not in self.kb.checklists:
            return None
        draft["target"], draft["target_arg"] = "not-done", checklist_id
        self._save_draft(user, "rem_kind", draft)
        return self._ask_kind()

    def _ask_kind(self, prefix: str = "") -> Reply:
        rows = [[Button(self.kb.text("rem_k_now"), "rq:now"), Button(self.kb.text("rem_k_tomorrow"), "rq:tomorrow")],
                [Button(self.kb.text("rem_k_once"), "rs:once")],
                [Button(self.kb.text("rem_k_weekly"), "rs:weekly"), Button(self.kb.text("rem_k_monthly"), "rs:monthly")],
                [Button(self.kb.text("rem_k_event"), "rs:event")], [Button(self.kb.text("btn_cancel"), "rx")]]
        text = (prefix + "\n\n" if prefix else "") + self.kb.text("rem_ask_kind")
        return Reply(buttons=rows).add(text)

    def kind(self, user: User, kind: str) -> Reply | None:
        draft = self._draft(user)
        if "target" not in draft or kind not in KINDS:
            return None
        draft["kind"] = kind
        if kind == "event":
            self._save_draft(user, "rem_kind", draft)
            rows = [[Button(short(e.title, 60), f"ri:{e.id}")] for e in self.kb.calendar if e.start]
            return Reply(buttons=rows + [[Button(self.kb.text("btn_cancel"), "rx")]], mode="edit").add(
                self.kb.text("rem_ask_event"))
        self._save_draft(user, "rem_when", draft)
        return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]], mode="edit").add(
            self.kb.text(f"rem_ask_{kind}"))

    def event(self, user: User, event_id: str) -> Reply | None:
        draft = self._draft(user)
        if draft.get("kind") != "event" or not any(e.id == event_id for e in self.kb.calendar):
            return None
        draft["event"] = event_id
        self._save_draft(user, "rem_when", draft)
        return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]], mode="edit").add(self.kb.text("rem_ask_event_days"))

    def quick(self, user: User, when: str) -> Reply | None:
        draft = self._draft(user)
        if "target" not in draft:
            return None
        now = self.now()
        if when == "now":
            at = now + timedelta(seconds=2)
        elif when == "tomorrow":
            at = _at(now.date() + timedelta(days=1), "08:00", self.tz)
        else:
            return None
        draft.update(kind="once", at=at.isoformat(timespec="minutes" if when != "now" else "seconds"))
        return self._confirm(user, draft)

    def _when_typed(self, user: User, draft: dict, text: str) -> Reply:
        kind = draft.get("kind")
        try:
            if kind == "once":
                at = parse_datetime(text, self.tz)
                if at <= self.now():
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
            return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]]).add(
                self.kb.text("rem_err") + "\n" + self.kb.text(key))
        return self._confirm(user, draft)

    def _confirm(self, user: User, draft: dict) -> Reply:
        rem = self._as_row(draft)
        nxt = next_run(rem, self.now(), self.kb, self.tz)
        if nxt is None:
            return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]]).add(self.kb.text("rem_err_past"))
        self._save_draft(user, "rem_confirm", draft)
        n = len(self.storage.recipients(rem["target"], rem["target_arg"]))
        text = self.kb.text("rem_confirm", text=draft["text"], schedule=describe(rem, self.kb),
                            target=self._target_label(rem), n=n)
        return Reply(buttons=[[Button(self.kb.text("rem_save"), "rk"), Button(self.kb.text("btn_cancel"), "rx")]]).add(text)

    def _as_row(self, draft: dict) -> dict:
        return {"kind": draft.get("kind"), "at": draft.get("at"), "weekday": draft.get("weekday"),
                "monthday": draft.get("monthday"), "time": draft.get("time"), "event": draft.get("event"),
                "days_before": draft.get("days_before"), "text": draft.get("text", ""),
                "target": draft.get("target", "all"), "target_arg": draft.get("target_arg", "")}

    def save(self, user: User) -> Reply | None:
        state = self.storage.get_state(user.id)
        if not state or state[0] != "rem_confirm":
            return None
        draft = json.loads(state[1])
        row = self._as_row(draft)
        nxt = next_run(row, self.now(), self.kb, self.tz)
        if nxt is None:
            return None
        rid = self.storage.save_reminder({**row, "created_by": user.id, "status": "active",
                                          "next_run": nxt.isoformat()})
        self.storage.clear_state(user.id)
        self.storage.audit(user.id, "reminder.create", str(rid), draft["text"][:200])
        if self.scheduler:
            self.scheduler.reminder(rid, nxt)
        reply = self.home(user, mode="edit")
        reply.toast = self.kb.text("rem_saved")
        return reply

    def cancel(self, user: User) -> Reply:
        self.storage.clear_state(user.id)
        return Reply(mode="edit").add(self.kb.text("rem_cancelled"))

    def set_status(self, user: User, rid: str, status: str) -> Reply | None:
        rem = self.storage.get_reminder(int(rid)) if rid.isdigit() else None
        if rem is None or rem["status"] not in ("active", "paused"):
            return None
        nxt = next_run(rem, self.now(), self.kb, self.tz) if status == "active" else None
        self.storage.update_reminder(rem["id"], status=status if (status != "active" or nxt) else "done",
                                     next_run=nxt.isoformat() if nxt else rem["next_run"])
        self.storage.audit(user.id, f"reminder.{status}", rid)
        if self.scheduler:
            self.scheduler.reminder(rem["id"], nxt if status == "active" else None)
        return self.home(user, mode="edit")

    def edit(self, user: User, rid: str) -> Reply | None:
        if not rid.isdigit() or not self.storage.get_reminder(int(rid)):
            return None
        self.storage.set_state(user.id, f"rem_edit:{rid}")
        return Reply(buttons=[[Button(self.kb.text("btn_cancel"), "rx")]]).add(self.kb.text("rem_ask_edit", id=rid))

    def _match_units(self, text: str) -> list[dict]:
        from rapidfuzz import fuzz, process

        units = list(self.storage.db.query("SELECT id, name, province_name FROM units ORDER BY id"))
        names = {u["id"]: fold(u["name"]) for u in units}
        out = []
        for part in re.split(r"[,;\n]+", text):
            if not part.strip():
                continue
            best = process.extractOne(fold(part), names, scorer=fuzz.WRatio, score_cutoff=85)
            if best:
                u = next(x for x in units if x["id"] == best[2])
                if u not in out:
                    out.append(u)
        return out

    # -------------------------------------------------------------- firing

    def fire(self, reminder_id: int) -> tuple[int | None, bool]:
        """Create the broadcast of the reminder's current occurrence (idempotent) and move to the next one.

        Returns (broadcast id or None when it was already created, late?)."""
        rem = self.storage.get_reminder(reminder_id)
        if rem is None or rem["status"] != "active" or not rem["next_run"]:
            return None, False
        now = self.now()
        due = datetime.fromisoformat(rem["next_run"])
        if due > now:
            return None, False
        late = now - due > LATE_AFTER
        text = rem["text"] + ("\n\n" + self.kb.text("rem_late_note") if late else "")
        users = self.storage.recipients(rem["target"], rem["target_arg"] or "")
        bid = self.storage.create_broadcast(rem["id"], rem["next_run"], rem["created_by"], text, users, late=late)
        nxt = next_run(rem, now, self.kb, self.tz)
        self.storage.update_reminder(rem["id"], last_run=rem["next_run"], next_run=nxt.isoformat() if nxt else None,
                                     status="active" if nxt else "done")
        if self.scheduler and nxt:
            self.scheduler.reminder(rem["id"], nxt)
        return bid, late


def _fold_keep_colon(text: str) -> str:
    """Folded text that keeps '08:30' intact (fold() drops punctuation)."""
    return " ".join(fold(part) if ":" not in part else part for part in text.split())
