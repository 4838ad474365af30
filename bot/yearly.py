"""The yearly ISO calendar (knowledge/calendar.yaml), with dates and durations in Vietnamese via babel."""

from __future__ import annotations

from datetime import date, timedelta

from bot import nav
from bot.actions import Action, Feature, command
from bot.home import home_row
from bot.knowledge import Event, KnowledgeBase, sources_of
from bot.reply import Reply, User, short
from bot.yamlcheck import LINE_KEY, Checker, line_of, load_file

KINDS = ("recommended", "province", "on-change", "legal")
LOCALE = "vi"
SOON_DAYS = 92  # /lich's first screen: what is under way or starts within about 3 months
SOON_MOST = 5  # and at most this many dates, so it reads on a phone (about 1,000 characters)
YEAR = Action("cy", needs_db=False, name="calendar.year")


def _month_day(ck: Checker, raw: dict, key: str, file: str, where: str) -> tuple[int, int] | None:
    value = ck.string(raw, key, file, required=False, where=where)
    if not value:
        return None
    try:
        month, day = (int(x) for x in value.split("-"))
        date(2024, month, day)  # a leap year accepts every valid month-day
        return month, day
    except ValueError:
        ck.add(file, line_of(raw, key), f"{where}'{key}' phải có dạng MM-DD, ví dụ 01-31")
        return None


def load_calendar(ck: Checker, kb: KnowledgeBase) -> None:
    """Read knowledge/calendar.yaml into kb.calendar; check the dates, the legal basis, the guide."""
    if not (kb.root / "calendar.yaml").exists():
        return
    for _, file, raw in load_file(ck, "calendar.yaml", "events", many=True):
        eid = ck.ident(raw, file, "mốc lịch")
        w = f"mốc '{eid}': "
        kind = ck.string(raw, "kind", file, where=w)
        if kind and kind not in KINDS:
            ck.add(file, line_of(raw, "kind"), f"{w}kind phải là một trong {', '.join(KINDS)}")
        start, end = _month_day(ck, raw, "start", file, w), _month_day(ck, raw, "end", file, w)
        if kind != "on-change" and not (start and end):
            ck.add(file, raw[LINE_KEY], f"{w}cần 'start' và 'end' (MM-DD)")
        sources = sources_of(ck, kb, raw, file, w)
        if kind == "legal" and not any(s.doc.kind == "law" and s.ref for s in sources):
            ck.add(file, raw[LINE_KEY], f"{w}thời hạn pháp định phải dẫn điều khoản của văn bản pháp luật")
        guide = ck.string(raw, "guide", file, required=False)
        if guide and guide not in kb.guides:
            ck.add(file, line_of(raw, "guide"), f"{w}hướng dẫn '{guide}' không tồn tại")
        kb.calendar.append(
            Event(
                eid,
                ck.string(raw, "title", file, where=w),
                kind,
                start,
                end,
                ck.string(raw, "note", file, required=False),
                guide,
                sources,
                bool(raw.get("repeat_quarterly")),
            )
        )


def vi_date(d: date) -> str:
    """'Thứ Ba, 15 tháng 12, 2026'."""
    from babel.dates import format_date

    return format_date(d, format="full", locale=LOCALE)


def vi_days(days: int) -> str:
    """'21 ngày' (never rounded to weeks or months)."""
    from babel.dates import format_timedelta

    return format_timedelta(timedelta(days=days), threshold=10_000, granularity="day", locale=LOCALE)


def occurrences(event: Event, year: int) -> list[tuple[date, date]]:
    """The (start, end) windows of an event in ``year`` (four for a quarterly one)."""
    if not (event.start and event.end):
        return []
    windows = [(date(year, *event.start), date(year, *event.end))]
    if event.quarterly:
        for shift in (3, 6, 9):
            (sm, sd), (em, ed) = event.start, event.end
            windows.append((date(year, sm + shift, min(sd, 30)), date(year, em + shift, min(ed, 30))))
    return windows


def _status(kb: KnowledgeBase, start: date, end: date, today: date) -> str:
    if end < today:
        return kb.text("calendar_past")
    if start <= today:
        return kb.text("calendar_now", left=vi_days((end - today).days))
    return kb.text("calendar_left", left=vi_days((start - today).days)) + f" ({vi_date(start)})"


def _window_line(kb: KnowledgeBase, ev: Event, start: date, end: date, today: date) -> str:
    """'1/11–15/12 (thông lệ; hạn chính thức theo văn bản của Sở KH&CN) — còn 11 ngày đến hết'."""
    from babel.dates import format_date

    kind = kb.text({"province": "calendar_province", "legal": "calendar_legal"}.get(ev.kind, "calendar_recommended"))
    span = f"{format_date(start, 'd/M', locale=LOCALE)}–{format_date(end, 'd/M', locale=LOCALE)}"
    return f"{span} ({kind}) — {_status(kb, start, end, today)}\n"


def soon(kb: KnowledgeBase, today: date) -> list[tuple[date, date, Event]]:
    """The dated events under way today or starting within :data:`SOON_DAYS` (next year's too, in
    December), soonest deadline first, at most :data:`SOON_MOST`."""
    found = []
    for ev in kb.calendar:
        windows = [w for year in (today.year, today.year + 1) for w in occurrences(ev, year) if w[1] >= today]
        if windows and (windows[0][0] - today).days <= SOON_DAYS:
            start, end = windows[0]
            found.append(((end, 0) if start <= today else (start, 1), start, end, ev))  # under way first
    found.sort(key=lambda x: x[0])
    return [(start, end, ev) for _, start, end, ev in found[:SOON_MOST]]


def soon_reply(kb: KnowledgeBase, today: date) -> Reply:
    """/lich's first screen: the next ~3 months, the legal obligations marked ⚖️ with their articles
    (as calendar.yaml cites them), the guides of what is shown, and «📅 Xem cả năm» for the rest."""
    r = Reply()
    r.add(kb.text("calendar_soon_title") + "\n", "b")
    r.add(kb.text("calendar_today", today=vi_date(today)) + "\n")
    shown = soon(kb, today)
    for start, end, ev in shown:
        r.add(f"\n{'⚖️' if ev.kind == 'legal' else '•'} {ev.title}\n", "b")
        r.add(_window_line(kb, ev, start, end, today))
        if ev.kind == "legal":
            laws = "; ".join(str(s) for s in ev.sources if s.doc.kind == "law" and s.ref)
            r.add(kb.text("calendar_basis", laws=laws) + "\n", "i")
    if not shown:
        r.add("\n" + kb.text("calendar_soon_none") + "\n")
    on_change = sum(ev.kind == "on-change" for ev in kb.calendar)
    r.add("\n" + kb.text("calendar_soon_footer", n=on_change))
    r.buttons = [[YEAR.button(kb.text("calendar_btn_year"))]] + _guide_rows(kb, [ev for _, _, ev in shown])
    return r


def _guide_rows(kb: KnowledgeBase, events: list[Event]) -> list:
    rows = []
    seen = set()
    for ev in events:
        if ev.guide and ev.guide not in seen and ev.guide in kb.guides:
            seen.add(ev.guide)
            rows.append([nav.GUIDE_STEP.button("🧭 " + short(kb.guides[ev.guide].title), ev.guide, 0)])
    return rows


def calendar_reply(kb: KnowledgeBase, today: date) -> Reply:
    """This year's calendar («Xem cả năm»): what to do when, with how long is left, in Vietnamese; a legal
    obligation is labelled as such (its note names the article)."""
    r = Reply()
    r.add(kb.text("calendar_title", year=today.year) + "\n", "b")
    r.add(kb.text("calendar_today", today=vi_date(today)) + "\n")
    dated = []
    for ev in kb.calendar:
        windows = occurrences(ev, today.year)
        if not windows:
            continue
        upcoming = [w for w in windows if w[1] >= today]
        start, end = (upcoming or windows[-1:])[0]
        dated.append((start, end, ev))
    for start, end, ev in sorted(dated, key=lambda x: x[0]):
        r.add(f"\n• {ev.title}\n", "b")
        r.add(_window_line(kb, ev, start, end, today))
        if ev.note:
            r.add(ev.note + "\n", "i")
    for ev in kb.calendar:
        if ev.kind == "on-change":
            r.add(f"\n• {ev.title}\n", "b").add(f"({kb.text('calendar_on_change')}) ").add(ev.note + "\n", "i")
    r.add("\n" + kb.text("calendar_footer"))
    r.buttons = _guide_rows(kb, list(kb.calendar))
    return r


class Calendar(Feature):
    """/lich: the next months of the ISO calendar, and the whole year."""

    @command("lich", shortcut="calendar")
    def show(self, user: User, arg: str = "") -> Reply:
        reply = soon_reply(self.kb, self.ctx.today())
        reply.buttons.append(home_row(self.ctx))
        return reply

    @YEAR
    def year(self, user: User) -> Reply:
        """«📅 Xem cả năm»: every event of the year with its note."""
        reply = calendar_reply(self.kb, self.ctx.today())
        reply.buttons.append(home_row(self.ctx))
        return reply

    @nav.CALENDAR
    def pressed(self, user: User) -> Reply:
        return self.show(user)
