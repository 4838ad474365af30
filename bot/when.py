"""Vietnamese dates and times as officials type them: reminders, deadlines, due dates.

Everything is read on unmarked text (:func:`bot.text.unmark`: no diacritics, lower case, "/", ":" and
"-" kept), so "thứ Hai" and "thu hai" are the same. On Wednesday 2/12/2026 at 10:00::

    parse_when("15/12 8h", now)                  → 15/12/2026 08:00
    parse_when("2 giờ chiều ngày kia", now)      → 04/12/2026 14:00
    parse_when("thu hai tuan sau 8h30", now)     → 07/12/2026 08:30
    parse_when("20/12", now, default=EIGHT)      → 20/12/2026 08:00 (only where the prompt promised 08:00)
    parse_date("cuối tháng", today)              → 31/12/2026
    parse_date("15/1", today)                    → 15/01/2027 (no year: the next such date not in the past)
    parse_time("2 giờ chiều")                    → 14:00
    parse_weekly("CN 19h30")                     → (6, 19:30)        weekday 0 = Monday
    parse_monthly("mùng 5 8h")                   → (5, 08:00)        "cuối tháng" is day 31 (the last day)
    parse_offset("trước 1 tuần 8h")              → (7, 08:00)        days before a deadline

Dates: "15/12", "15/12/2026", "15-12", "ngày 15 tháng 12", "hôm nay", "mai", "ngày kia"/"mốt",
"thứ hai"…"thứ bảy", "thứ 2"…"7", "t2"…"t7", "chủ nhật"/"cn" (with "tuần này", "tuần sau"/"tuần tới"),
"cuối tháng", "đầu tháng sau", "cuối năm", "3 ngày nữa", "sau 3 ngày", "2 tuần nữa", "20.12" (with a
time; alone in a moment it could be 20:12, so it is asked), "mồng 5 tháng sau", "cuối tháng 12"; "hằng
tuần"/"hằng tháng" are allowed in the weekly/monthly answer. Times: "8h",
"8h30", "8:30", "8 giờ", "8 giờ 30", "8 giờ rưỡi", "8 giờ sáng", "2 giờ chiều", "7 giờ tối", "14h".
Offsets: "trước 7 ngày", "7 ngày trước", "trước 1 tuần".

It never guesses. What cannot be read one way only raises :class:`WhenError`, whose ``key`` names
the ui.yaml sentence that says what to type instead: "31/2" (no such day), a bare "8" (a day or an
hour?), "thu hai toi 8h" (unmarked "toi" is "tối", evening, or "tới", coming), "14h sáng", two dates,
"tuần sau"/"tháng sau" without the day, "cuối tuần" (Friday or the weekend?), "hôm qua" (past), any
word it does not know (quoted back as typed, with its marks). A general-purpose parser (dateparser
with languages=["vi"], tried first) read only 7 of 16 typical phrases, and "15/12 lúc 8 giờ" as 17:00
the same day.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.text import unmark

EIGHT = time(8, 0)  # the default hour the reminder prompts promise
MAX_OFFSET_DAYS = 365
WEEKDAYS = {
    "hai": 0,
    "ba": 1,
    "tu": 2,
    "nam": 3,
    "sau": 4,
    "bay": 5,
    "2": 0,
    "3": 1,
    "4": 2,
    "5": 3,
    "6": 4,
    "7": 5,
    "chu nhat": 6,
    "cn": 6,
}
NUMBERS = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
}
# Words that carry nothing here: "gửi vào lúc 8h", "nhắc ngày 15/12 nhé"
FILLERS = frozenset("luc vao gui nhac nhe nha a khoang buoi ngay cho".split())
# Marked words whose unmarked forms collide, told apart while the marks are still there
_MARKED = {"tối": "toi_e", "tới": "toi_n", "mốt": "mot_2"}
_N = r"(\d{1,3}|" + "|".join(NUMBERS) + ")"
_B, _E = r"(?<![\w/:.-])", r"(?![\w/:.-])"


class WhenError(ValueError):
    """The text cannot be read as one date or time; ``key`` is the ui.yaml sentence that says why."""

    def __init__(self, key: str, **values: object):
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class _Parts:
    """What the scanner found: at most one day, one clock time, one offset."""

    day: tuple | None = None  # ("date", d, m, y), ("rel", days), ("weekday", wd, week), …
    before: int | None = None  # days before a deadline
    clock: tuple[int, int, str] | None = None  # hour, minute, the text typed
    period: str | None = None  # sang, trua, chieu, toi, dem
    toi: bool = False  # an unmarked "toi" after a weekday: "tối" or "tới"?
    numbers: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)  # what was typed for each component
    every: str = ""  # "hằng tuần" / "hằng tháng" typed: "tuan" or "thang"
    dotted: tuple[int, int] | None = None  # a day typed "20.12", which could also be 20:12
    source: str = ""  # the text as typed, to quote it back with its marks

    def set_day(self, value: tuple, typed: str) -> None:
        if self.day is not None:
            raise WhenError("when_err_two", first=self.typed["day"], second=typed)
        self.day, self.typed["day"] = value, typed

    def set_clock(self, hour: int, minute: int, typed: str) -> None:
        if self.clock is not None:
            raise WhenError("when_err_two_times", first=self.clock[2], second=typed)
        self.clock = (hour, minute, typed)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word]


def _offset(m: re.Match, p: _Parts) -> None:
    if m.group(0) in ("dung han", "ngay het han", "ngay han"):
        days = 0
    else:
        n, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        days = _number(n) * (7 if unit == "tuan" else 1)
    if p.before is not None:
        raise WhenError("when_err_two", first=p.typed["before"], second=m.group(0))
    p.before, p.typed["before"] = days, m.group(0)


def _relative(m: re.Match, p: _Parts) -> None:
    n, unit = next((m.group(i), m.group(i + 1)) for i in (1, 3, 5) if m.group(i))
    p.set_day(("rel", _number(n) * (7 if unit == "tuan" else 1)), m.group(0))


def _iso(m: re.Match, p: _Parts) -> None:
    p.set_day(("date", int(m.group(3)), int(m.group(2)), int(m.group(1))), m.group(0))


def _dmy(m: re.Match, p: _Parts) -> None:
    day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
    typed = f"{day}/{month}" + (f"/{year}" if year else "")
    p.set_day(("date", day, month, int(year) + (2000 if len(year) == 2 else 0) if year else None), typed)
    _after_day(m, p)


def _after_day(m: re.Match, p: _Parts) -> None:
    """An unmarked "toi" right after a day is "tới" (the coming one) or "tối" (evening): see _clock."""
    p.toi = p.toi or m.group("toi") == "toi"


def _weekday(m: re.Match, p: _Parts) -> None:
    day = m.group("day") or m.group("t") or m.group("sun")
    qualifier = (m.group("pre") or m.group("post") or "").strip()
    if qualifier in ("tuan nay", "nay"):
        week = "this"
    elif qualifier in ("tuan sau", "tuan toi", "tuan toi_n", "sang tuan"):
        week = "next"
    else:
        week = ""
        p.toi = p.toi or qualifier == "toi"
    p.set_day(("weekday", WEEKDAYS[day], week), m.group(0).strip())


def _named(m: re.Match, p: _Parts) -> None:
    word = m.group(0)
    days = 0 if word in ("hom nay", "bua nay") else 1 if word in ("mai", "ngay mai") else 2
    p.set_day(("rel", days), word)


def _month_edge(m: re.Match, p: _Parts) -> None:
    edge, unit, which = m.group(1), m.group(2), (m.group(3) or "").strip()
    shift = 1 if which in ("sau", "toi", "toi_n") else 0
    p.set_day((f"{unit}_{'end' if edge == 'cuoi' else 'start'}", shift), m.group(0))


def _monthday(m: re.Match, p: _Parts) -> None:
    p.set_day(("monthday", int(m.group(1))), f"ngày {m.group(1)}")
    _after_day(m, p)


def _colon(m: re.Match, p: _Parts) -> None:
    p.set_clock(int(m.group(1)), int(m.group(2)), m.group(0))
    _time_of_day(m.group("per"), p)


def _hours(m: re.Match, p: _Parts) -> None:
    hour, minute = int(m.group("h")), int(m.group("m") or 0)
    if m.group("half"):
        minute = 30
    if m.group("less"):  # "8 giờ kém 15" is 7:45
        hour, minute = hour - 1, 60 - int(m.group("less"))
    p.set_clock(hour, minute, m.group(0))
    _time_of_day(m.group("per"), p)


def _period(m: re.Match, p: _Parts) -> None:
    _time_of_day(m.group(0), p)


def _time_of_day(word: str | None, p: _Parts) -> None:
    """Sáng, trưa, chiều, tối, đêm: one of them, once (an unmarked "toi" here can only be "tối")."""
    if word is None:
        return
    word = "toi" if word == "toi_e" else word
    if p.period is not None and p.period != word:
        raise WhenError("when_err_two_times", first=_PERIOD_NAMES[p.period], second=_PERIOD_NAMES[word])
    p.period = word


def _bare(m: re.Match, p: _Parts) -> None:
    p.numbers.append(m.group(0))


def _dotted(m: re.Match, p: _Parts) -> None:
    """ "20.12": the day 20/12 (officials write dates with dots), or 20:12 when no other time is typed."""
    day, month = int(m.group(1)), int(m.group(2))
    p.set_day(("date", day, month, None), f"{day}.{month}")
    p.dotted = (day, month)
    _after_day(m, p)


def _past_day(m: re.Match, p: _Parts) -> None:
    p.set_day(("rel", -1), m.group(0))  # "hôm qua": refused as past, with its date


def _month_of(m: re.Match, p: _Parts) -> None:
    """ "cuối tháng 12", "đầu tháng 1": the last or first day of that month, the next one not past."""
    month = int(m.group(2))
    p.set_day((f"month{month}_{'end' if m.group(1) == 'cuoi' else 'start'}",), m.group(0))


def _day_next_month(m: re.Match, p: _Parts) -> None:
    """ "mồng 5 tháng sau", "ngày 20 tháng này"."""
    shift = 0 if m.group(2) == "nay" else 1
    p.set_day(("month_day", int(m.group(1)), shift), m.group(0))


def _every(m: re.Match, p: _Parts) -> None:
    """ "hằng tuần", "mỗi tháng": said again inside the weekly or monthly prompt."""
    p.every, p.typed["every"] = m.group(1), m.group(0)


def _which_day(m: re.Match, p: _Parts) -> None:
    """ "tuần sau", "tháng sau", "cuối tuần" without the day: asked, never guessed."""
    if m.group(0).startswith("cuoi"):
        raise WhenError("when_err_weekend", text=_marked(m.group(0), p.source))
    key = "when_err_which_weekday" if m.group(1) == "tuan" else "when_err_which_monthday"
    raise WhenError(key, text=_marked(m.group(0), p.source))


_PERIOD = r"(?: (?P<per>sang|trua|chieu|toi_e|toi|dem))?"  # "8h tối", "2 giờ chiều"
_TOI = r"(?: (?P<toi>toi_n|toi))?"  # "15/12 tới" (or "tối"?)
_WEEKDAY = (
    r"(?:(?P<pre>tuan sau|tuan toi_n|tuan toi|sang tuan|tuan nay) )?"
    r"(?:thu ?(?P<day>hai|ba|tu|nam|sau|bay|[2-7])|t(?P<t>[2-7])|(?P<sun>chu nhat|cn))"
    r"(?: (?P<post>tuan nay|tuan sau|tuan toi_n|tuan toi|sang tuan|nay|toi_n|toi))?"
)
_RULES: list[tuple[re.Pattern, Callable[[re.Match, _Parts], None]]] = [
    (re.compile(_B + rx + _E), fn)
    for rx, fn in (
        (_WEEKDAY, _weekday),  # first: "thứ hai tuần tới" is not "hai tuần tới" (two weeks)
        (
            rf"truoc (?:han |moc )?{_N} (ngay|tuan)|{_N} (ngay|tuan) truoc(?: han| moc)?"
            r"|dung han|ngay het han|ngay han",
            _offset,
        ),
        (
            rf"{_N} (ngay|tuan) (?:nua|toi_n|toi)|sau {_N} (ngay|tuan)(?: nua)?|(?:trong (?:vong )?)?{_N} (ngay|tuan)",
            _relative,
        ),  # "2 tuần nữa", "sau 10 ngày", "trong 2 tuần" / "2 tuần" (a due date)
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", _iso),
        (r"(?:ngay )?(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?" + _TOI, _dmy),
        (r"(?:ngay )?(\d{1,2})\.(0?[1-9]|1[0-2])" + _TOI, _dotted),  # "20.12"; "8.30" stays unread
        (r"(?:ngay )?(\d{1,2}) thang (\d{1,2})(?: nam (\d{4}))?" + _TOI, _dmy),
        (r"(?:ngay|mung|mong) (\d{1,2}) thang (sau|toi_n|toi|nay)", _day_next_month),  # not "2 tháng sau"
        (r"(cuoi|dau) thang (\d{1,2})", _month_of),
        (r"hom nay|bua nay|ngay mai|mai|ngay kia|ngay mot_2|mot_2|ngay mot|mot", _named),
        (r"hom qua|bua qua", _past_day),
        (r"(?:hang|moi) (tuan|thang)", _every),
        (r"(cuoi|dau) (thang|nam)( nay| sau| toi_n| toi)?", _month_edge),
        (r"cuoi tuan(?: nay| sau| toi_n| toi)?|(tuan|thang) (?:sau|toi_n|toi|nay)", _which_day),
        (r"(?:ngay|mung|mong) (\d{1,2})" + _TOI, _monthday),
        (r"(\d{1,2}):(\d{2})" + _PERIOD, _colon),
        (
            r"(?P<h>\d{1,2}) ?(?:h|g|gio)(?: ?(?P<m>\d{1,2})(?: ?(?:p|phut))?| (?P<half>ruoi)"
            r"| kem (?P<less>\d{1,2})(?: ?(?:p|phut))?)?" + _PERIOD,
            _hours,
        ),
        (r"sang|trua|chieu|toi_e|toi|dem", _period),  # a "toi" left here is "tối": "mai toi 8h"
        (r"\d+", _bare),
    )
]
_SHOWN = {"toi_e": "tối", "toi_n": "tới", "mot_2": "mốt"}


def _normalise(text: str) -> str:
    """Unmarked text with only what the rules read: letters, digits, "/", ":", "-" between digits."""
    text = unicodedata.normalize("NFC", text).lower()
    s = unmark(re.sub(r"\b(" + "|".join(_MARKED) + r")\b", lambda m: _MARKED[m.group(1)], text))
    s = re.sub(r"(\d{1,2})\.(\d{1,2})\.(\d{2,4})", r"\1/\2/\3", s)  # 15.12.2026
    s = re.sub(r"(?<!\d)[.-]|[.-](?!\d)|[^\w/:.\-\s]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _scan(text: str) -> _Parts:
    """Every component of ``text``; each rule's matches are blanked so later rules do not see them."""
    s = _normalise(text)
    p = _Parts(source=text)
    for rx, fn in _RULES:
        for m in list(rx.finditer(s)):
            fn(m, p)
            s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end() :]
    p.unknown = [w for w in s.split() if w not in FILLERS]
    return p


def _fail_on_rest(p: _Parts, *, numbers: bool = True) -> None:
    """Words no rule read, or a bare number nothing says is a day or an hour: ask again."""
    if p.unknown:
        raise WhenError("when_err_unknown", words=_marked(" ".join(p.unknown), p.source))
    if numbers and p.numbers:
        raise WhenError("when_err_bare", number=p.numbers[0])


def _only(p: _Parts, allowed: set[str], allowed_every: str = "") -> None:
    """Components the context has no use for ("trước 7 ngày" in a date) are words it did not understand."""
    extra = [p.typed[k] for k in ("day", "before") if k not in allowed and k in p.typed]
    if "clock" not in allowed and (p.clock or p.period):
        extra.append(p.clock[2] if p.clock else p.period or "")
    if p.every and p.every != allowed_every:
        extra.append(p.typed["every"])
    if extra:
        raise WhenError("when_err_unknown", words=_marked(" ".join(extra), p.source))


def _marked(fragment: str, source: str) -> str:
    """Each word of ``fragment`` (unmarked, as the rules read it) as the user typed it, marks and all:
    "hằng tháng", not "hang thang"."""
    words = re.findall(r"[\w/:.\-]+", unicodedata.normalize("NFC", source))
    typed: dict[str, str] = {}
    for word in words:
        for key in _normalise(word).split():
            typed.setdefault(key, word.strip(".-"))
    return " ".join(typed.get(w, _SHOWN.get(w, w)) for w in fragment.split())


# ---------------------------------------------------------------------- times

_PERIODS = {  # hour typed → hour meant, for each time of day
    "sang": lambda h: h if h <= 11 else None,
    "trua": lambda h: h if 10 <= h <= 14 else h + 12 if 1 <= h <= 2 else None,
    "chieu": lambda h: h + 12 if 1 <= h <= 11 else h if 12 <= h <= 23 else None,
    "toi": lambda h: h + 12 if 5 <= h <= 11 else h if 17 <= h <= 23 else None,
    "dem": lambda h: h + 12 if 9 <= h <= 11 else h if h >= 21 or h <= 4 else None,
}
_PERIOD_NAMES = {"sang": "sáng", "trua": "trưa", "chieu": "chiều", "toi": "tối", "dem": "đêm"}


def _clock(p: _Parts, default: time | None) -> time:
    """The time typed (its time of day applied), else ``default`` when that fits what was typed."""
    if p.clock is None:
        if p.toi:
            raise WhenError("when_err_toi")
        if default is None or (p.period and _PERIODS[p.period](default.hour) != default.hour):
            raise WhenError("when_err_need_time")
        return default
    hour, minute, typed = p.clock
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WhenError("when_err_time", text=typed)
    if p.period:
        meant = _PERIODS[p.period](hour)
        if meant is None:
            raise WhenError("when_err_period", text=typed, period=_PERIOD_NAMES[p.period])
        hour = meant
    if p.toi and hour < 12:  # "tối" would make it evening, "tới" would not
        raise WhenError("when_err_toi")
    return time(hour, minute)


# ---------------------------------------------------------------------- days


def _make(year: int, month: int, day: int, typed: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError("when_err_no_day", date=typed) from None


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _day(p: _Parts, today: date) -> date:
    """The day of ``p`` seen from ``today``; an explicit day in the past is refused."""
    assert p.day is not None, "called only when a day was typed"
    kind, *args = p.day
    typed = p.typed["day"]
    if kind == "date":
        d, m, y = args
        if not 1 <= m <= 12:
            raise WhenError("when_err_no_day", date=typed)
        if y is None:
            y = today.year if (m, d) >= (today.month, today.day) else today.year + 1
        found = _make(y, m, d, typed)
    elif kind == "rel":
        found = today + timedelta(days=args[0])
    elif kind == "weekday":
        found = _weekday_date(args[0], args[1], today)
    elif kind == "monthday":
        found = _monthday_date(args[0], today, typed)
    elif kind == "thang_end":
        first = _add_months(today, args[0])
        found = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    elif kind == "thang_start":
        found = _add_months(today, args[0])
    elif kind == "nam_end":
        found = date(today.year + args[0], 12, 31)
    elif kind == "nam_start":
        found = date(today.year + args[0], 1, 1)
    elif kind == "month_day":
        month = _add_months(today, args[1])
        found = _make(month.year, month.month, args[0], f"{args[0]}/{month.month}")
    else:  # month12_end, month1_start: "cuối tháng 12", "đầu tháng 1"
        month, edge = kind[5:].split("_")
        found = _month_edge_date(int(month), edge, today, typed)
    if found < today:
        raise WhenError("when_err_past", date=vi_date(found))
    return found


def _month_edge_date(month: int, edge: str, today: date, typed: str) -> date:
    """The first or last day of ``month``, this year's unless it has passed."""
    if not 1 <= month <= 12:
        raise WhenError("when_err_no_day", date=typed)
    for year in (today.year, today.year + 1):
        found = date(year, month, calendar.monthrange(year, month)[1] if edge == "end" else 1)
        if found >= today:
            return found
    raise AssertionError("unreachable: next year's is ahead")


def _weekday_date(weekday: int, week: str, today: date) -> date:
    monday = today - timedelta(days=today.weekday())
    if week == "this":
        return monday + timedelta(days=weekday)
    if week == "next":
        return monday + timedelta(days=7 + weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _monthday_date(day: int, today: date, typed: str) -> date:
    """The next day ``day`` of a month, this month included (a month without it is skipped)."""
    if not 1 <= day <= 31:
        raise WhenError("when_err_no_day", date=typed)
    first = today.replace(day=1)
    for i in range(13):
        month = _add_months(first, i)
        if day <= calendar.monthrange(month.year, month.month)[1] and month.replace(day=day) >= today:
            return month.replace(day=day)
    raise WhenError("when_err_no_day", date=typed)  # unreachable: every year has a 31st


# ---------------------------------------------------------------------- public


def parse_date(text: str, today: date) -> date:
    """A day, for a deadline or a due date: "15/12", "thứ Hai tuần sau", "cuối tháng", "3 ngày nữa"."""
    p = _scan(text)
    _fail_on_rest(p)
    _only(p, {"day"})
    if p.day is None:
        raise WhenError("when_err_need_date")
    return _day(p, today)


def parse_time(text: str) -> time:
    """A time of day: "8h", "8:30", "8 giờ rưỡi", "2 giờ chiều"."""
    p = _scan(text)
    _fail_on_rest(p)
    _only(p, {"clock"})
    return _clock(p, None)


def parse_when(text: str, now: datetime, default: time | None = None) -> datetime:
    """A moment after ``now`` (in its time zone): "15/12 8h", "mai 8h30", "thu hai 8h". A time alone is
    today; a day alone takes ``default`` (None: the time must be typed). A bare weekday is the next one
    still ahead: "thứ Hai 8h" typed on a Monday at 9:00 is next Monday."""
    p = _scan(text)
    _fail_on_rest(p)
    _only(p, {"day", "clock"})
    if p.day is None and p.clock is None:
        raise WhenError("when_err_need_date")
    if p.dotted and p.clock is None and p.dotted[0] <= 23:  # "20.12" alone: 20/12, or 20:12 today?
        d, m = p.dotted
        raise WhenError("when_err_dotted", text=f"{d}.{m}", day=f"{d}/{m}", hour=f"{d}h{m:02d}")
    at = _clock(p, default)
    day = _day(p, now.date()) if p.day else now.date()
    moment = datetime.combine(day, at, tzinfo=now.tzinfo)
    if moment <= now and p.day and p.day[0] == "weekday" and not p.day[2]:
        moment += timedelta(days=7)
    if moment <= now:
        raise WhenError("when_err_past_time", when=vi_datetime(moment))
    return moment


def parse_weekly(text: str, default: time | None = None) -> tuple[int, time]:
    """A day of the week (0 = Monday) and a time: "thứ 2 08:00", "CN 19h30", "t6 2 giờ chiều"."""
    p = _scan(text)
    _fail_on_rest(p)
    _only(p, {"day", "clock"}, allowed_every="tuan")
    if p.day is None or p.day[0] != "weekday" or p.day[2]:
        raise WhenError("when_err_weekday")
    return p.day[1], _clock(p, default)


def parse_monthly(text: str, default: time | None = None) -> tuple[int, time]:
    """A day of the month and a time: "ngày 5 8h", "mùng 5", "5 08:00"; "cuối tháng" is 31, which
    a shorter month reads as its last day."""
    p = _scan(text)
    _fail_on_rest(p, numbers=False)
    _only(p, {"day", "clock"}, allowed_every="thang")
    if p.day is None and len(p.numbers) == 1:
        day = int(p.numbers[0])
    elif p.day and not p.numbers and p.day[0] == "monthday":
        day = p.day[1]
    elif p.day and not p.numbers and p.day[:2] in (("thang_end", 0), ("thang_start", 0)):
        day = 31 if p.day[0] == "thang_end" else 1
    else:
        raise WhenError("when_err_monthday")
    if not 1 <= day <= 31:
        raise WhenError("when_err_monthday")
    return day, _clock(p, default)


def parse_offset(text: str, default: time | None = None) -> tuple[int, time]:
    """How many days before a deadline, and a time: "trước 7 ngày 8h", "7 ngày trước", "trước 1 tuần",
    "7 08:00" (a bare number is the days the question asked for)."""
    p = _scan(text)
    _fail_on_rest(p, numbers=False)
    _only(p, {"before", "clock"})
    if p.before is None and len(p.numbers) == 1:
        days = int(p.numbers[0])
    elif p.before is not None and not p.numbers:
        days = p.before
    else:
        raise WhenError("when_err_offset")
    if days > MAX_OFFSET_DAYS:
        raise WhenError("when_err_offset")
    return days, _clock(p, default)


# ---------------------------------------------------------------------- showing dates


def vi_weekday(d: date) -> str:
    """'thứ Năm', 'Chủ nhật' (as written inside a sentence)."""
    from babel.dates import format_date

    name = format_date(d, "EEEE", locale="vi")
    return "thứ" + name[3:] if name.startswith("Thứ") else name.capitalize()


def vi_date(d: date) -> str:
    """'20/12/2026'."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def vi_datetime(moment: datetime, tz=None) -> str:
    """'08:00, thứ Năm, 10/12/2026', in ``tz`` when given (users never read UTC)."""
    if tz is not None:
        moment = moment.astimezone(tz)
    return f"{moment:%H:%M}, {vi_weekday(moment.date())}, {vi_date(moment.date())}"
