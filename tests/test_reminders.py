"""Reminders typed the way officials write them, confirmed with their next send date, and broadcasts
that say who sent them, link to what they are about and can be acknowledged (issue 15)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dialog import Core, User
from bot.reply import MAX_LABEL_CHARS
from tests.telegram_offline import UpdateFactory, visible_text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN, LAN, HUNG = 777, 31, 32
INSPECTOR = User(ADMIN, "Thanh tra")


@pytest.fixture
def clock():
    return {"now": datetime(2026, 12, 2, 10, 0, tzinfo=TZ)}  # a Wednesday


@pytest.fixture
def core(lang_son, clock):
    return lang_son(now=lambda: clock["now"], today=lambda: clock["now"].date())


def wizard(core: Core, *steps: str, user: User = INSPECTOR):
    """Start /nhacviec's wizard for everyone and play ``steps``: button data, else typed text."""
    core.press(user, "rn")
    core.text(user, "Nộp báo cáo HTQLCL năm")
    core.press(user, "rt:all")
    reply = None
    for step in steps:
        reply = core.press(user, step) if core.registry.resolve(step) else core.text(user, step)
    return reply


def test_an_event_reminder_counts_from_the_deadline(core):
    """The yearly report is due 15/12: "7 days before" is 8/12, not 7 days before the window opens (25/10)."""
    confirm = wizard(core, "rs:event", "ri:bao-cao-nam", "trước 7 ngày 8h").text
    assert "7 ngày trước hạn «Báo cáo về HTQLCL" in confirm
    assert "Lần gửi tới: 08:00, thứ Ba, 08/12/2026" in confirm and "⚠️" not in confirm
    core.press(User(ADMIN), "rk")
    (rem,) = core.storage.reminders()
    assert rem["next_run"] == "2026-12-08T08:00:00+07:00"


def test_an_event_reminder_whose_day_has_passed_says_so_before_saving(core):
    confirm = wizard(core, "rs:event", "ri:bao-cao-nam", "truoc 14 ngay")
    assert (
        "Ngày nhắc cho hạn 15/12/2026 là 01/12/2026, đã qua, nên lần gửi tới là 08:00, thứ Tư, 01/12/2027, "
        "cho hạn 15/12/2027"
    ) in confirm.text
    assert ["rk", "rx", "rq:now"] == [b.data for row in confirm.buttons for b in row], "«Gửi ngay» is offered"
    assert core.storage.reminders() == [], "nothing saved yet"


def test_an_event_whose_deadline_passed_this_year_says_next_year(core):
    confirm = wizard(core, "rs:event", "ri:muc-tieu-nam", "1 tuần trước").text
    assert "Hạn năm nay của mốc này (31/01/2026) đã qua, nên lần gửi tới là 08:00, Chủ nhật, 24/01/2027" in confirm


def test_a_quarterly_item_rolls_to_the_next_quarter_and_says_so(core):
    confirm = wizard(core, "rs:event", "ri:ra-soat-tthc", "trước 30 ngày").text
    assert "hạn 30/12/2026 là 30/11/2026, đã qua" in confirm and "01/03/2027, cho hạn 31/03/2027" in confirm


def test_send_now_is_confirmed_as_send_now_and_goes_when_saved(core, clock):
    confirm = wizard(core, "rq:now").text
    assert "Lịch: Gửi ngay\nLần gửi tới: ngay khi anh/chị bấm «Lưu»" in confirm and "Một lần" not in confirm
    clock["now"] = datetime(2026, 12, 2, 10, 7, tzinfo=TZ)  # the confirmation waited seven minutes
    assert not core.press(User(ADMIN), "rk").stale
    (rem,) = core.storage.reminders()
    assert rem["next_run"] == "2026-12-02T10:07:00+07:00" and rem["status"] == "active"
    core.storage.touch_user(ADMIN, "Thanh tra")
    core.storage.set_role(ADMIN, "inspector")  # the same person, on Zalo
    zalo = User(ADMIN, "Thanh tra", channel="zalo", account="z1")
    assert "ngay khi anh/chị chọn «Lưu»" in wizard(core, "rq:now", user=zalo).text


@pytest.mark.parametrize(
    "kind, typed, schedule, first",
    [
        ("rs:once", "15/12 8h", "Một lần: 08:00, thứ Ba, 15/12/2026", "08:00, thứ Ba, 15/12/2026"),
        ("rs:once", "thu hai tuan sau", "Một lần: 08:00, thứ Hai, 07/12/2026", "08:00, thứ Hai, 07/12/2026"),
        ("rs:weekly", "thu hai 8h", "Hằng tuần: thứ Hai, 08:00", "08:00, thứ Hai, 07/12/2026"),
        ("rs:weekly", "CN 7 giờ tối", "Hằng tuần: Chủ nhật, 19:00", "19:00, Chủ nhật, 06/12/2026"),
        ("rs:monthly", "cuối tháng 14h", "Hằng tháng: ngày cuối tháng, 14:00", "14:00, thứ Năm, 31/12/2026"),
        ("rs:monthly", "mùng 1", "Hằng tháng: ngày 1, 08:00", "08:00, thứ Sáu, 01/01/2027"),
        ("rs:monthly", "ngay 31 hang thang 8h", "Hằng tháng: ngày cuối tháng, 08:00", "08:00, thứ Năm, 31/12/2026"),
        ("rs:weekly", "t2 hang tuan luc 7h30", "Hằng tuần: thứ Hai, 07:30", "07:30, thứ Hai, 07/12/2026"),
        ("rs:once", "20.12 8h", "Một lần: 08:00, Chủ nhật, 20/12/2026", "08:00, Chủ nhật, 20/12/2026"),
    ],
)
def test_one_free_text_answer_per_schedule(core, kind, typed, schedule, first):
    confirm = wizard(core, kind, typed).text
    assert f"Lịch: {schedule}\nLần gửi tới: {first}" in confirm


def test_what_cannot_be_read_one_way_is_asked_again_with_examples(core):
    reply = wizard(core, "rs:once", "thu hai toi 8h")
    assert "«tối» (buổi tối) hay «tới»" in reply.text and "«15/12 8h»" in reply.text
    assert "Không có ngày 31/2" in core.text(User(ADMIN), "31/2").text, "still waiting for the date"
    assert "Số «8» là ngày hay giờ?" in wizard(core, "rs:weekly", "thu 2 8").text


def test_a_date_not_understood_is_quoted_with_its_marks_and_asked_again(core):
    reply = wizard(core, "rs:once", "cuối tuần")
    assert "«cuối tuần» là thứ Sáu, thứ Bảy hay Chủ nhật?" in reply.text and "«15/12 8h»" in reply.text
    assert "Ngày 01/12/2026 đã qua" in core.text(INSPECTOR, "hôm qua").text
    assert "Em chưa hiểu «họp giao ban»" in core.text(INSPECTOR, "15/12 họp giao ban").text
    assert "Xác nhận nhắc việc" in core.text(INSPECTOR, "mồng 5 tháng sau 8h").text


def test_the_list_buttons_say_what_they_do(core):
    wizard(core, "rs:once", "15/12 8h", "rk")
    labels = [b.label for row in core.command(User(ADMIN), "nhacviec").buttons for b in row]
    assert {"📊 Báo cáo #1", "⏸ Tạm dừng #1", "✏️ Sửa #1", "🗑 Xoá #1"} <= set(labels)
    assert all(len(label) <= MAX_LABEL_CHARS for label in labels)
    paused = core.press(User(ADMIN), "rp:1")
    assert "▶️ Tiếp tục #1" in [b.label for row in paused.buttons for b in row]


@pytest.fixture
def team(core, kb):
    """The inspector (of the Sở) and two officials of a commune that has not finished a checklist."""
    storage = core.storage
    agency = storage.get_or_create_unit("co-quan", "Sở KH&CN Lạng Sơn", 20, "Lạng Sơn")
    commune = storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    for uid, name, unit in ((ADMIN, "Thanh tra", agency), (LAN, "Lan", commune), (HUNG, "Hùng", commune)):
        storage.touch_user(uid, name)
        storage.set_user_unit(uid, unit, confirmed=True)
    return next(iter(kb.checklists.values()))


def test_a_broadcast_is_signed_links_to_its_item_and_counts_who_acknowledged(core, clock, team):
    wizard(core, "rt:not-done", f"rc:{team.id}", "rs:event", "ri:bao-cao-nam", "trước 7 ngày 8h", "rk")
    (rem,) = core.storage.reminders()
    clock["now"] = datetime(2026, 12, 8, 8, 0, tzinfo=TZ)
    bid, late = core.reminders.fire(rem["id"])
    message = core.notices.message(bid)
    assert message.text == "Nộp báo cáo HTQLCL năm\n\n— Thanh tra, Sở KH&CN Lạng Sơn" and not late
    assert [[b.data for b in row] for row in message.buttons] == [[f"ra:{bid}"], ["cal"], [f"co:{team.id}"]]
    assert all(len(b.label) <= MAX_LABEL_CHARS for row in message.buttons for b in row)
    acked = core.press(User(LAN), f"ra:{bid}")
    assert acked.mode == "markup" and "Cảm ơn" in acked.toast
    assert [b.data for row in acked.buttons for b in row] == ["cal", f"co:{team.id}"], "«Đã nhận» is gone"
    assert "đã báo đã nhận" in core.press(User(LAN), f"ra:{bid}").toast, "counted once"
    assert core.press(User(4001), f"ra:{bid}").stale, "not sent to them"
    assert core.storage.acknowledged(bid) == 1
    assert "✅ Đã nhận: 1 người" in core.press(User(ADMIN), f"rv:{rem['id']}").text
    assert "Câu 1/" in core.press(User(HUNG), f"co:{team.id}").text, "the link starts the checklist"


def test_a_notice_nobody_sent_has_nothing_to_acknowledge(core, team):
    bid = core.storage.create_broadcast(None, "member-31-ab", 0, "Đoàn kiểm tra đã xác nhận anh/chị", [LAN])
    assert core.notices.message(bid).buttons == []


async def test_on_telegram_a_typed_reminder_goes_out_with_its_buttons_and_is_acknowledged(offline_app, clock):
    """The real Application offline: the inspector types "15/12 8h", the reminder fires on the day,
    the official gets it with «✅ Đã nhận», presses it; the keyboard goes, the report counts it."""
    app, api, core = await offline_app(admin_ids={ADMIN}, now=lambda: clock["now"], today=lambda: clock["now"].date())
    boss, lan = UpdateFactory(app.bot, ADMIN, "Thanh tra"), UpdateFactory(app.bot, 4242, "Lan")

    def last(chat: int) -> dict:
        return api.messages[(chat, max(m for c, m in api.messages if c == chat))]

    await app.process_update(lan.text("/start"))
    await app.process_update(boss.text("/nhacviec"))
    for data, typed in (("rn", "Nộp báo cáo HTQLCL năm"), ("rt:all", ""), ("rs:once", "15/12 8h")):
        await app.process_update(boss.press(data, last(ADMIN)))
        if typed:
            await app.process_update(boss.text(typed))
    assert "Lần gửi tới: 08:00, thứ Ba, 15/12/2026" in api.last_text()
    await app.process_update(boss.press("rk", last(ADMIN)))
    (rem,) = core.storage.reminders()
    clock["now"] = datetime(2026, 12, 15, 8, 0, 20, tzinfo=TZ)
    await app.bot_data["scheduler"]._reminder_job(rem["id"])
    message = last(4242)
    assert message["text"] == "Nộp báo cáo HTQLCL năm\n\n— Thanh tra, đoàn kiểm tra"
    ((ack,),) = message["reply_markup"]["inline_keyboard"]
    assert ack["text"] == "✅ Đã nhận"
    api.clear()
    await app.process_update(lan.press(ack["callback_data"], message))
    (answer,) = api.sent("answerCallbackQuery")
    assert answer["text"].startswith("Cảm ơn anh/chị")
    (edit,) = api.sent("editMessageReplyMarkup")
    assert int(edit["chat_id"]) == 4242 and not (edit.get("reply_markup") or {}).get("inline_keyboard")
    await app.process_update(boss.press(f"rv:{rem['id']}", last(ADMIN)))
    assert "✅ Đã nhận: 1 người" in visible_text(api.sent("sendMessage")[-1]["text"])[0]


def test_a_reminder_sent_for_the_last_time_stays_listed_for_its_report(core, clock, team):
    wizard(core, "rq:now", "rk")
    bid, _ = core.reminders.fire(1)
    core.press(User(LAN), f"ra:{bid}")
    listed = core.command(User(ADMIN), "nhacviec")
    assert "#1 Nộp báo cáo HTQLCL năm" in listed.text and "đã gửi xong" in listed.text
    assert [b.data for row in listed.buttons for b in row if b.data.startswith("r")] == ["rn", "rv:1"]
    assert "✅ Đã nhận: 1 người" in core.press(User(ADMIN), "rv:1").text
    clock["now"] = datetime(2026, 12, 17, 10, 0, tzinfo=TZ)
    assert "#1" not in core.command(User(ADMIN), "nhacviec").text, "after two weeks the list forgets it"


def test_reminders_to_silent_units_and_overdue_tasks_are_counted_at_each_send(core, clock):
    """No hand-made list: the wizard offers units nobody used for 30 days and units with overdue tasks,
    and who is reached is worked out again at every send."""
    storage = core.storage
    quiet = storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    busy = storage.get_or_create_unit("phường", "Phường Tam Thanh", 20, "Lạng Sơn", 6000)
    late = storage.get_or_create_unit("xã", "Xã Na Dương", 20, "Lạng Sơn", 6530)
    for uid, unit in ((LAN, quiet), (HUNG, busy), (41, late)):
        storage.touch_user(uid, f"u{uid}")
        storage.set_user_unit(uid, unit, confirmed=True)
    storage.db.execute("UPDATE users SET last_seen = '2026-10-01T00:00:00+00:00' WHERE id = ?", [LAN])
    storage.create_task(
        {"unit_id": late, "what": "Cập nhật quy trình", "owner_id": 41, "created_by": ADMIN, "due": "2026-11-30"}
    )
    boss = User(ADMIN, "Thanh tra")
    core.press(boss, "rn")
    targets = core.text(boss, "Anh/chị vào trợ lý làm bảng kiểm nhé")
    labels = [b.label for row in targets.buttons for b in row]
    assert "Đơn vị im lặng quá 30 ngày" in labels and "Đơn vị có việc khắc phục quá hạn" in labels
    core.press(boss, "rt:silent")
    confirm = core.press(boss, "rq:now")
    assert "đơn vị không ai dùng trợ lý quá 30 ngày (tính lại mỗi lần gửi)" in confirm.text, confirm.text
    core.press(boss, "rk")
    (rem,) = storage.reminders()
    bid, _ = core.reminders.fire(rem["id"])
    assert [d["user_id"] for d in storage.db.query("SELECT user_id FROM deliveries WHERE broadcast_id = ?", [bid])] == [
        LAN
    ]
    assert core.reminders._recipients({"target": "overdue", "target_arg": ""}) == [41]
    storage.touch_user(LAN, "Lan")  # Lan comes back: no longer silent
    assert core.reminders._recipients({"target": "silent", "target_arg": "30"}) == []
    clock["now"] = datetime(2026, 11, 29, 9, 0, tzinfo=TZ)  # before the due date nothing is overdue
    assert core.reminders._recipients({"target": "overdue", "target_arg": ""}) == []


def test_unit_names_that_match_no_unit_are_reported_not_dropped(core, team):
    boss = User(ADMIN, "Thanh tra")
    core.press(boss, "rn")
    core.text(boss, "Họp giao ban ISO")
    core.press(boss, "rt:units")
    reply = core.text(boss, "Lộc Bình, xa Hoang Mai")
    assert "Đã chọn: Xã Lộc Bình." in reply.text
    assert "Không tìm thấy đơn vị đã đăng ký nào tên «xa Hoang Mai»" in reply.text


def zalo_inspector(core: Core):
    """The admin on Zalo (a numbered-options chat) and its TextUI."""
    from bot.textui import TextUI

    core.storage.touch_user(ADMIN, "Thanh tra")
    user = User(ADMIN, "Thanh tra", channel="zalo", account="z1")
    return user, TextUI(core, "zalo", publish=lambda a: None)


def option(text: str, label: str) -> str:
    """The number a Zalo screen gives the option ``label``."""
    import re

    return next(n for n, lab in re.findall(r"^(\d{1,3})\. (.+)$", text, re.M) if lab == label)


def test_deleting_a_reminder_asks_first_says_so_and_a_stale_number_deletes_nothing_else(core):
    """Zalo §1: «Xoá #1» then the same number again deleted #2 silently."""
    wizard(core, "rs:once", "15/12 8h", "rk")
    wizard(core, "rs:weekly", "thu hai 7h30", "rk")
    user, ui = zalo_inspector(core)
    (listed,) = ui.handle(user, "/nhacviec")
    number = option(listed.text, "🗑 Xoá #1")
    (ask,) = ui.handle(user, number)
    assert "Xoá nhắc việc #1 «Nộp báo cáo HTQLCL năm»" in ask.text and "↩️ Giữ lại" in ask.text
    assert [r["status"] for r in core.storage.reminders()] == ["active", "active"], "nothing deleted yet"
    (done,) = ui.handle(user, option(ask.text, "🗑 Xoá #1"))
    assert "Đã xoá nhắc việc #1" in done.text
    (again,) = ui.handle(user, number)  # the user types the old number once more
    assert "Menu đã thay đổi" in again.text and "Xoá" not in again.text
    assert [r["id"] for r in core.storage.reminders()] == [2], "#2 is still there"
    (listed,) = ui.handle(user, "/nhacviec")
    (ask,) = ui.handle(user, option(listed.text, "🗑 Xoá #2"))
    ui.handle(user, option(ask.text, "↩️ Giữ lại"))
    assert [r["id"] for r in core.storage.reminders()] == [2], "«Giữ lại» keeps it"


def test_a_deleted_reminders_old_button_says_it_is_gone(core):
    wizard(core, "rs:once", "15/12 8h", "rk")
    core.press(INSPECTOR, "ry:1")
    reply = core.press(INSPECTOR, "ry:1")
    assert "#1 đã được xoá" in reply.text and not reply.stale


@pytest.mark.parametrize(
    "kind, first, typed, schedule",
    [
        ("rs:once", "8 giờ sáng ngày 10/12", "8h ngay 11/12", "Một lần: 08:00, thứ Sáu, 11/12/2026"),
        ("rs:weekly", "thu hai 7h30", "t3 7h30", "Hằng tuần: thứ Ba, 07:30"),
        ("rs:event", "truoc 1 tuan", "trước 3 ngày", "3 ngày trước hạn «Báo cáo về HTQLCL"),
        ("rq:now", None, "15/12 8h", "Một lần: 08:00, thứ Ba, 15/12/2026"),
    ],
)
def test_a_date_typed_at_the_confirmation_is_the_new_schedule(core, kind, first, typed, schedule):
    """Zalo §3 / Telegram §4: the draft was thrown away."""
    steps = [kind, "ri:bao-cao-nam"] if kind == "rs:event" else [kind]
    wizard(core, *steps, *([first] if first else []))
    reply = core.text(INSPECTOR, typed)
    assert "Xác nhận nhắc việc" in reply.text and f"Lịch: {schedule}" in reply.text
    assert "«Nộp báo cáo HTQLCL năm»" in reply.text
    core.press(INSPECTOR, "rk")
    (rem,) = core.storage.reminders()
    assert rem["text"] == "Nộp báo cáo HTQLCL năm"


@pytest.mark.parametrize("typed", ["ok luu", "gửi đi", "hom qua"])
def test_other_text_at_the_confirmation_keeps_the_draft_and_says_how_to_save(core, typed):
    wizard(core, "rs:once", "15/12 8h")
    reply = core.text(INSPECTOR, typed)
    assert "chưa được lưu" in reply.text or "đã qua" in reply.text
    assert "Lịch: Một lần: 08:00, thứ Ba, 15/12/2026" in reply.text
    assert ["rk", "rx"] == [b.data for row in reply.buttons for b in row]
    core.press(INSPECTOR, "rk")
    assert len(core.storage.reminders()) == 1


def test_a_long_reminder_is_kept_whole_up_to_the_limit_and_refused_beyond_it(core):
    """Telegram §3: a 3,918-character text went out as 1,000 characters, cut mid-word."""
    from bot.reminders import MAX_TEXT_CHARS

    core.press(INSPECTOR, "rn")
    refused = core.text(INSPECTOR, "Nội dung d" * 392)
    assert "3.920 ký tự" in refused.text and "3.000" in refused.text and "rút gọn" in refused.text
    long = ("Đề nghị các xã rà soát hồ sơ ISO. " * 200)[: MAX_TEXT_CHARS - 1] + "."
    core.text(INSPECTOR, long)  # still waiting for the text
    core.press(INSPECTOR, "rt:all")
    confirm = core.press(INSPECTOR, "rq:now")
    assert long in confirm.text
    core.press(INSPECTOR, "rk")
    (rem,) = core.storage.reminders()
    assert rem["text"] == long


def test_a_long_reminder_reaches_zalo_whole_in_pages_with_its_ack(core, clock, team):
    from bot.reminders import MAX_TEXT_CHARS
    from bot.textui import ZALO_LIMIT, TextUI

    long = ("Đề nghị các xã rà soát hồ sơ ISO. " * 200)[:MAX_TEXT_CHARS]
    core.press(INSPECTOR, "rn")
    core.text(INSPECTOR, long)
    core.press(INSPECTOR, "rt:all")
    core.press(INSPECTOR, "rq:now")
    core.press(INSPECTOR, "rk")
    (rem,) = core.storage.reminders()
    bid, _ = core.reminders.fire(rem["id"])
    ui = TextUI(core, "zalo", publish=lambda a: None)
    lan = User(LAN, "Lan", channel="zalo", account="lan")
    pages = [ui.render(lan, core.notices.message(bid))[0].text]
    while "Xem tiếp" in pages[-1]:
        pages += [ui.handle(lan, "1")[0].text]
    assert all(len(p) <= ZALO_LIMIT for p in pages) and len(pages) == 2
    assert "✅ Đã nhận" in pages[-1] and long.split(". ")[-1] in pages[-1]


def test_an_edited_text_that_is_too_long_is_refused_and_still_awaited(core):
    wizard(core, "rs:once", "15/12 8h", "rk")
    core.press(INSPECTOR, "re:1")
    assert "quá giới hạn" in core.text(INSPECTOR, "x" * 5000).text
    assert "Đã sửa" in core.text(INSPECTOR, "Nội dung mới").text
    (rem,) = core.storage.reminders()
    assert rem["text"] == "Nội dung mới"
