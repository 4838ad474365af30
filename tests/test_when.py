"""Vietnamese dates and times as officials type them (bot.when), seen from Wednesday 2/12/2026 10:00."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.when import (
    EIGHT,
    WhenError,
    parse_date,
    parse_monthly,
    parse_offset,
    parse_time,
    parse_weekly,
    parse_when,
    vi_date,
    vi_datetime,
    vi_weekday,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
TODAY = NOW.date()


def at(m: int, d: int, hh: int, mm: int = 0, y: int = 2026) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


# What officials type in the reminder wizard, by step, and what it means. The commit that added
# bot.when measured the wizard's old parser on this list: it accepted 4 of these 31.
PHRASES = [
    ("once", "15/12 8h", at(12, 15, 8)),
    ("once", "15/12/2026 08:30", at(12, 15, 8, 30)),
    ("once", "15-12 8:30", at(12, 15, 8, 30)),
    ("once", "ngày 15 tháng 12 lúc 8 giờ", at(12, 15, 8)),
    ("once", "mai 8h", at(12, 3, 8)),
    ("once", "8h sáng mai", at(12, 3, 8)),
    ("once", "2 giờ chiều ngày kia", at(12, 4, 14)),
    ("once", "thứ Hai tuần sau 8h30", at(12, 7, 8, 30)),
    ("once", "thu hai 8h", at(12, 7, 8)),
    ("once", "t6 14h", at(12, 4, 14)),
    ("once", "chủ nhật 19h", at(12, 6, 19)),
    ("once", "cuối tháng 16h", at(12, 31, 16)),
    ("once", "đầu tháng sau", at(1, 1, 8, y=2027)),
    ("once", "3 ngày nữa 9h", at(12, 5, 9)),
    ("once", "20/12", at(12, 20, 8)),
    ("once", "hôm nay 15h", at(12, 2, 15)),
    ("once", "1 tuần nữa", at(12, 9, 8)),
    ("once", "cuối năm 9h", at(12, 31, 9)),
    ("once", "15/1 8h", at(1, 15, 8, y=2027)),
    ("once", "ngay 20 thang 12 nam 2026 luc 8 gio 30", at(12, 20, 8, 30)),
    ("weekly", "thu 2 08:00", (0, time(8))),
    ("weekly", "thứ sáu 14h", (4, time(14))),
    ("weekly", "cn 19h30", (6, time(19, 30))),
    ("weekly", "T3 7 giờ sáng", (1, time(7))),
    ("monthly", "ngày 5 08:00", (5, time(8))),
    ("monthly", "mùng 5 8h", (5, time(8))),
    ("monthly", "cuối tháng 14h", (31, time(14))),
    ("event", "trước 7 ngày 8h", (7, time(8))),
    ("event", "7 ngày trước", (7, time(8))),
    ("event", "trước 1 tuần 8h", (7, time(8))),
    ("event", "7 08:00", (7, time(8))),
]
STEP = {
    "once": lambda t: parse_when(t, NOW, EIGHT),
    "weekly": lambda t: parse_weekly(t, EIGHT),
    "monthly": lambda t: parse_monthly(t, EIGHT),
    "event": lambda t: parse_offset(t, EIGHT),
}


@pytest.mark.parametrize("step, typed, meant", PHRASES)
def test_typical_phrases_of_each_wizard_step_mean_what_officials_mean(step, typed, meant):
    assert STEP[step](typed) == meant


@pytest.mark.parametrize(
    "typed, key",
    [
        ("31/2", "when_err_no_day"),  # no such day, with or without a year
        ("29/2/2027", "when_err_no_day"),
        ("13/13 8h", "when_err_no_day"),
        ("8", "when_err_bare"),  # a day or an hour?
        ("mai 25h", "when_err_time"),
        ("mai 8h70", "when_err_time"),
        ("14h sáng mai", "when_err_period"),
        ("thu hai toi 8h", "when_err_toi"),  # "tối" (20:00) or "tới" (08:00)?
        ("thu hai toi", "when_err_toi"),  # the default 08:00 would be a guess too
        ("01/01/2026 8h", "when_err_past"),
        ("hôm nay 7h", "when_err_past_time"),
        ("chiều mai", "when_err_need_time"),  # the default 08:00 is not an afternoon
        ("15/12 họp giao ban", "when_err_unknown"),
        ("tuần sau", "when_err_which_weekday"),  # which day of it?
        ("tháng sau 8h", "when_err_which_monthday"),
        ("cuối tuần", "when_err_weekend"),  # Friday, Saturday or Sunday?
        ("2 tháng sau", "when_err_which_monthday"),  # "in two months" or "the 2nd of next month"?
        ("20.12", "when_err_dotted"),  # 20/12 or 20:12 today?
        ("hôm qua", "when_err_past"),
        ("hằng tuần thứ Hai 8h", "when_err_unknown"),  # a reminder sent once
        ("8.30 mai", "when_err_unknown"),
        ("thứ Hai 15/12 8h", "when_err_two"),
        ("mai 8h 9h", "when_err_two_times"),
        ("trước 7 ngày", "when_err_unknown"),  # an offset is not a moment
        ("", "when_err_need_date"),
    ],
)
def test_what_can_be_read_two_ways_or_not_at_all_is_refused(typed, key):
    with pytest.raises(WhenError) as err:
        parse_when(typed, NOW, EIGHT)
    assert err.value.key == key


def test_dateparser_s_mistake_is_not_ours():
    """dateparser read "15/12 lúc 8 giờ" as 17:00 today."""
    assert parse_when("15/12 lúc 8 giờ", NOW) == at(12, 15, 8)


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("15/12", date(2026, 12, 15)),
        ("thứ Hai tuần sau", date(2026, 12, 7)),
        ("thứ 4", TODAY),  # a due date today is not in the past
        ("thứ tư tuần này", TODAY),
        ("cuối tháng", date(2026, 12, 31)),
        ("cuối tháng sau", date(2027, 1, 31)),
        ("15/1", date(2027, 1, 15)),  # no year: the next such date not in the past
        ("2/12", TODAY),
        ("1/12", date(2027, 12, 1)),
        ("hôm nay", TODAY),
        ("mai", date(2026, 12, 3)),
        ("ngày kia", date(2026, 12, 4)),
        ("mốt", date(2026, 12, 4)),
        ("2 tuần nữa", date(2026, 12, 16)),
        ("sau 10 ngày", date(2026, 12, 12)),
        ("ngày 5", date(2026, 12, 5)),
        ("mùng 1", date(2027, 1, 1)),
        ("ngày 31", date(2026, 12, 31)),
        (unicodedata.normalize("NFD", "thứ Sáu tuần tới"), date(2026, 12, 11)),
    ],
)
def test_due_dates(typed, meant):
    assert parse_date(typed, TODAY) == meant


@pytest.mark.parametrize(
    "typed, key",
    [
        ("8h", "when_err_unknown"),
        ("thứ Hai tuần này", "when_err_past"),
        ("30/11/2026", "when_err_past"),
        ("cuối tuần", "when_err_weekend"),
        ("hom qua", "when_err_past"),
        ("tuan sau", "when_err_which_weekday"),
    ],
)
def test_due_dates_refused(typed, key):
    with pytest.raises(WhenError) as err:
        parse_date(typed, TODAY)
    assert err.value.key == key


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("8h", time(8)),
        ("8h30", time(8, 30)),
        ("8:30", time(8, 30)),
        ("8 giờ", time(8)),
        ("8 giờ 30", time(8, 30)),
        ("8 giờ 30 phút", time(8, 30)),
        ("8 giờ rưỡi", time(8, 30)),
        ("8 giờ kém 15", time(7, 45)),
        ("8 giờ sáng", time(8)),
        ("2 giờ chiều", time(14)),
        ("14h", time(14)),
        ("7 giờ tối", time(19)),
        ("8h toi", time(20)),
        ("12 giờ trưa", time(12)),
        ("lúc 16:45", time(16, 45)),
    ],
)
def test_times(typed, meant):
    assert parse_time(typed) == meant


def test_a_weekday_typed_on_that_day_after_its_hour_is_next_week():
    assert parse_when("thứ 4 9h", NOW) == at(12, 9, 9)
    assert parse_when("thứ 4 11h", NOW) == at(12, 2, 11)


def test_a_time_alone_is_today_and_a_day_alone_needs_the_promised_default():
    assert parse_when("15h", NOW) == at(12, 2, 15)
    with pytest.raises(WhenError) as err:
        parse_when("20/12", NOW)
    assert err.value.key == "when_err_need_time"


def test_marks_tell_evening_from_coming():
    assert parse_when("thứ Hai tối 8h", NOW) == at(12, 7, 20)
    assert parse_when("thứ Hai tới 8h", NOW) == at(12, 7, 8)


@pytest.mark.parametrize(
    "parse, typed, key",
    [
        (parse_weekly, "thứ Hai tuần sau 8h", "when_err_weekday"),  # every week is not one week
        (parse_weekly, "15/12 8h", "when_err_weekday"),
        (parse_monthly, "32 8h", "when_err_monthday"),
        (parse_monthly, "cuối tháng sau", "when_err_monthday"),
        (parse_offset, "trước 400 ngày", "when_err_offset"),
        (parse_offset, "7 8", "when_err_offset"),
    ],
)
def test_repeating_schedules_refuse_what_does_not_repeat(parse, typed, key):
    with pytest.raises(WhenError) as err:
        parse(typed, EIGHT)
    assert err.value.key == key


def test_dates_are_shown_the_vietnamese_way_in_the_zone_asked_for():
    utc = datetime(2026, 12, 10, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert vi_datetime(utc, TZ) == "08:00, thứ Năm, 10/12/2026"
    assert vi_date(date(2026, 1, 5)) == "05/01/2026"
    assert vi_weekday(date(2026, 12, 6)) == "Chủ nhật"


def test_every_error_has_its_sentence(kb):
    """Each WhenError key raised in bot/when.py is a sentence in ui.yaml (the wizard shows it)."""
    import re
    from pathlib import Path

    import bot.when

    keys = set(re.findall(r'WhenError\("(\w+)"', Path(bot.when.__file__).read_text(encoding="utf-8")))
    assert len(keys) >= 15 and keys <= set(kb.ui), keys - set(kb.ui)


@pytest.mark.parametrize(
    "step, typed, meant",
    [
        ("once", "20.12 8h", at(12, 20, 8)),  # dotted dates are common (Telegram §12)
        ("once", "25.12", at(12, 25, 8)),  # 25:12 is no time: the date
        ("once", "mồng 5 tháng sau 8h", at(1, 5, 8, y=2027)),
        ("once", "mung 5 thang sau", at(1, 5, 8, y=2027)),
        ("once", "ngày 20 tháng này 14h", at(12, 20, 14)),
        ("once", "cuối tháng 12 16h", at(12, 31, 16)),
        ("weekly", "t2 hang tuan luc 7h30", (0, time(7, 30))),  # Zalo §15
        ("weekly", "thứ Sáu hằng tuần", (4, time(8))),
        ("monthly", "ngay 31 hang thang 8h", (31, time(8))),  # Telegram §12
        ("monthly", "mồng 10 hằng tháng", (10, time(8))),
        ("monthly", "mỗi tháng ngày 5 14h", (5, time(14))),
    ],
)
def test_more_ways_officials_write_dates(step, typed, meant):
    assert STEP[step](typed) == meant


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("cuoi thang 12", date(2026, 12, 31)),  # Zalo §15
        ("cuối tháng 11", date(2027, 11, 30)),  # this year's has passed
        ("đầu tháng 1", date(2027, 1, 1)),
        ("20.12", date(2026, 12, 20)),  # a due date has no hour: the dotted day
        ("mồng 5 tháng sau", date(2027, 1, 5)),
    ],
)
def test_more_due_dates(typed, meant):
    assert parse_date(typed, TODAY) == meant


def test_what_is_not_understood_is_quoted_as_typed_with_its_marks():
    with pytest.raises(WhenError) as err:
        parse_when("15/12 họp giao ban", NOW, EIGHT)
    assert err.value.values == {"words": "họp giao ban"}
    with pytest.raises(WhenError) as err:
        parse_when("ngày 31 hằng tháng 8h", NOW, EIGHT)
    assert err.value.values == {"words": "hằng tháng"}
    with pytest.raises(WhenError) as err:
        parse_date("Cuối tuần này", TODAY)
    assert err.value.values == {"text": "Cuối tuần này"}


def test_yesterday_says_its_date_has_passed(kb):
    with pytest.raises(WhenError) as err:
        parse_when("hôm qua 8h", NOW, EIGHT)
    assert kb.text(err.value.key, **err.value.values) == "Ngày 01/12/2026 đã qua."


def test_a_mong_with_no_such_day_next_month_is_refused():
    with pytest.raises(WhenError) as err:
        parse_date("ngày 31 tháng sau", date(2027, 1, 10))  # February 2027
    assert err.value.key == "when_err_no_day"
