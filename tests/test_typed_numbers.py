"""Numbers and letters typed where a menu (buttons or numbered options) is the last screen."""

from __future__ import annotations

import pytest

from bot import nav
from bot.reply import Button, Reply, User
from tests.telegram_offline import UpdateFactory


def _last_message(api):
    return api.messages[max(api.messages)]


async def _start_quiz(app, api, make) -> None:
    """/quiz → mixed topics → 5 questions, by pressing the buttons."""
    await app.process_update(make.text("/quiz"))
    await app.process_update(make.press("qt:mix", _last_message(api)))
    await app.process_update(make.press("ql:mix:5", _last_message(api)))


# ---------------------------------------------------------------------- Telegram: numbers pick buttons


@pytest.mark.parametrize("typed", ["2", "2.", " 2 ", "2)"])
async def test_a_number_typed_after_telegram_buttons_picks_that_button(offline_app, typed):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7001)
    await app.process_update(make.text("/start"))
    label, data = api.last_buttons()[1]
    menu = _last_message(api)
    await app.process_update(make.press(data, menu))
    pressed = api.last_text()
    await app.process_update(make.text("/start"))
    api.clear()
    await app.process_update(make.text(typed))
    assert api.last_text() == pressed, f"«{typed}» opens «{label}», the second button"
    assert "chưa có thông tin" not in api.last_text()


async def test_numbers_count_telegram_buttons_row_by_row_left_to_right(offline_app, kb):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7002)
    await app.process_update(make.text("/quiz"))
    await app.process_update(make.press("qt:mix", _last_message(api)))  # one row of lengths, then «Quay lại»
    lengths = [d for _, d in api.last_buttons()]
    assert lengths[1] == "ql:mix:10"
    await app.process_update(make.text("2"))
    session = core.storage.open_quiz(7002)
    assert session is not None and len(session["questions"]) == 10, "the second button of the first row"


async def test_a_number_not_on_the_telegram_buttons_gets_the_menu_again(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7003)
    await app.process_update(make.text("/start"))
    menu = api.last_buttons()
    api.clear()
    await app.process_update(make.text("37"))
    assert api.last_text().startswith(f"Số 37 không có trong menu: menu này có {len(menu)} nút")
    assert api.last_buttons() == menu, "the same buttons, unchanged"


@pytest.mark.parametrize("typed", ["9001", "2015", "19/2014"])
async def test_a_longer_number_after_telegram_buttons_is_still_a_question(offline_app, typed, searcher):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7004)
    await app.process_update(make.text("/start"))
    await app.process_update(make.text(typed))
    assert "không có trong menu" not in api.last_text()
    result = searcher.search(typed)
    if result.matched:
        assert api.last_text().startswith(result.best.entry.title)


async def test_a_typed_number_picks_the_telegram_button_after_a_restart(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7005)
    await app.process_update(make.text("/tudanhgia"))
    first_label, first = api.last_buttons()[0]
    await app.shutdown()
    app2, api2, core2 = await offline_app()
    make2 = UpdateFactory(app2.bot, user_id=7005)
    await app2.process_update(make2.text("1"))
    run = core2.storage.open_runs(7005)
    assert first.startswith("co:") and run and run[-1]["checklist_id"] == first[3:], first_label


async def test_one_typed_during_a_telegram_checklist_answers_dat(offline_app, kb):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7006)
    cl = kb.checklists["san-sang-xxld"]
    await app.process_update(make.text("/tudanhgia"))
    await app.process_update(make.press(f"co:{cl.id}", _last_message(api)))
    run_id = core.storage.open_run(7006, cl.id)["id"]
    await app.process_update(make.text("1"))
    assert core.storage.run_answers(run_id)[cl.items[0].id]["answer"] == "dat"
    assert f"Câu 2/{len(cl.items)}" in api.last_text()
    await app.process_update(make.text("3"))
    assert core.storage.run_answers(run_id)[cl.items[1].id]["answer"] == "chua-dat"
    assert f"Câu 3/{len(cl.items)}" in api.last_text()


async def test_a_question_asked_mid_checklist_leaves_one_as_dat_on_telegram(offline_app, kb):
    """The answer to a question typed mid-checklist is an aside: «1» still answers the item «Đạt» (as on
    Zalo), and the aside's own buttons («Làm tiếp» among them) are numbered after the item's."""
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7016)
    cl = kb.checklists["san-sang-xxld"]
    await app.process_update(make.text("/tudanhgia"))
    await app.process_update(make.press(f"co:{cl.id}", _last_message(api)))
    item_buttons = len(api.last_buttons())
    run_id = core.storage.open_run(7016, cl.id)["id"]
    await app.process_update(make.text("đánh giá nội bộ bao lâu một lần?"))
    aside = [d for _, d in api.last_buttons()]
    assert f"co:{cl.id}" in aside, "the answer offers «Làm tiếp»"
    await app.process_update(make.text("1"))
    assert core.storage.run_answers(run_id)[cl.items[0].id]["answer"] == "dat"
    assert f"Câu 2/{len(cl.items)}" in api.last_text()
    await app.process_update(make.text("học viên hỏi xem xét lãnh đạo gồm những đầu vào nào?"))
    resume = item_buttons + 1 + [d for _, d in api.last_buttons()].index(f"co:{cl.id}")
    await app.process_update(make.text(str(resume)))
    assert f"Câu 2/{len(cl.items)}" in api.last_text(), f"«{resume}» is the aside's «Làm tiếp»"
    assert cl.items[1].id not in core.storage.run_answers(run_id), "nothing answered by it"


async def test_a_number_typed_below_a_telegram_quiz_poll_asks_for_a_tap(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7007)
    await _start_quiz(app, api, make)
    assert api.calls[-1][0] == "sendPoll"
    await app.process_update(make.text("2"))
    assert "chạm vào phương án" in api.last_text()
    assert core.storage.open_quiz(7007)["position"] == 0, "the poll is still the question to answer"


async def test_a_toast_only_reply_to_a_typed_number_is_sent_as_text(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7008)
    await app.process_update(make.text("htqlcl la gi"))
    up = next(i for i, (label, _) in enumerate(api.last_buttons()) if label.startswith("👍"))
    await app.process_update(make.text(str(up + 1)))
    assert api.last_text().startswith("Cảm ơn anh/chị")


def test_a_number_below_a_message_without_buttons_is_a_question(core):
    user = core.identify("telegram", "7009", "Lan")
    core.shown(user, Reply(buttons=[[Button("A", "m")]]).add("menu"))
    core.shown(user, Reply().add("một câu trả lời không có nút"))
    assert "không có trong menu" not in core.text(user, "5").text
    core.shown(user, Reply(toast="đã lưu"))  # a toast shows nothing new: the screen stays
    assert "không có trong menu" not in core.text(user, "5").text


def test_numbers_on_zalo_are_left_to_its_numbered_options(core):
    user = core.identify("zalo", "z7010", "Lan")
    core.shown(user, Reply(buttons=[[Button("A", "m")]]).add("menu"))
    assert core.storage.load_screen("zalo", "z7010") is None, "Zalo's screen is TextUI's own"
    assert isinstance(core.text(User(user.id, channel="zalo", account="z7010"), "5"), Reply)


async def test_a_number_typed_after_a_message_the_bot_started_picks_its_button(offline_app, kb):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7011)
    await app.process_update(make.text("/start"))
    person = core.identify("telegram", "7011").id
    notice = Reply(buttons=[[nav.QUIZ.button("📝 Làm trắc nghiệm")]]).add("Nhắc việc: ôn tập ISO")
    assert await app.bot_data["hub"].deliver(person, notice)
    await app.process_update(make.text("1"))
    assert api.last_text().startswith(kb.text("quiz_intro")[:30])


async def test_a_letter_typed_after_a_telegram_quiz_ended_is_a_late_answer(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7012)
    await _start_quiz(app, api, make)
    for _ in range(5):
        await app.process_update(make.vote(api.polls[-1]["id"], 0))
    assert "🎯 Kết quả" in api.last_text()
    await app.process_update(make.text("b"))
    assert api.last_text().startswith("Bài trắc nghiệm đã kết thúc (đúng ")
    assert [d for _, d in api.last_buttons()][:2] == ["qh", "qb"]


# ---------------------------------------------------------------------- /dieukhoan: numbers are clauses


@pytest.fixture
def zalo(core):
    from bot.textui import TextUI

    return TextUI(core, "zalo", publish=lambda a: None), core.identify("zalo", "z-atlas", "Lan")


def test_the_clause_menu_numbers_each_clause_by_its_own_number(zalo, kb):
    ui, user = zalo
    (out,) = ui.handle(user, "/dieukhoan")
    lines = [line for line in out.text.splitlines() if line[:1].isdigit()]
    clauses = [c for c in kb.atlas.clauses.values() if "." not in c.number]
    assert lines[: len(clauses)] == [f"{c.number}. {c.title}" for c in clauses]
    assert lines[len(clauses)] == "1. 📚 Chủ đề", "the other options take the numbers no clause has"
    (out,) = ui.handle(user, "4")
    assert out.text.startswith("Khoản 4: ")


@pytest.mark.parametrize(
    "typed, number",
    [
        ("9", "9"),
        ("10", "10"),
        ("9.2", "9.2"),
        ("dieu 9.2", "9.2"),
        ("khoản 9.2", "9.2"),
        ("Điều khoản 7.1.5", "7.1.5"),
    ],
)
def test_a_clause_typed_on_the_clause_menu_opens_it(zalo, typed, number):
    ui, user = zalo
    ui.handle(user, "/dieukhoan")
    (out,) = ui.handle(user, typed)
    assert out.text.startswith(f"Khoản {number}: ") or out.text.startswith(f"Khoản {number} ("), out.text[:80]
    assert f". {number}.1 " in out.text and "👍" not in out.text, "the clause's screen with its sub-clauses"


def test_a_clause_the_standard_has_not_is_said_so_and_a_question_is_still_answered(zalo):
    ui, user = zalo
    ui.handle(user, "/dieukhoan")
    (out,) = ui.handle(user, "khoản 9.7")
    assert out.text.startswith("TCVN ISO 9001:2015 không có khoản 9.7.") and "\n4. " in out.text
    (out,) = ui.handle(user, "đánh giá nội bộ bao lâu 1 lần")
    assert "Nguồn:" in out.text


async def test_telegram_keeps_the_clause_buttons_and_a_typed_clause_opens_it(offline_app, kb):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7013)
    await app.process_update(make.text("/dieukhoan"))
    labels = [label for label, _ in api.last_buttons()]
    assert labels[0] == f"Điều 4: {kb.atlas.clauses['4'].title}" and labels[-2:] == ["📚 Chủ đề", "🏠 Menu"]
    await app.process_update(make.text("4"))
    assert api.last_text().startswith("Khoản 4: "), "clause 4, not the fourth button (Điều 7)"
    await app.process_update(make.text("/dieukhoan"))
    await app.process_update(make.text("9.2"))
    assert api.last_text().startswith("Khoản 9.2: ")


def test_huy_mid_quiz_stops_it_after_the_clause_menu_was_opened(zalo):
    ui, user = zalo
    ui.handle(user, "/quiz")
    ui.handle(user, "1")
    ui.handle(user, "1")
    ui.handle(user, "/dieukhoan")
    assert ui.core.storage.open_quiz(user.id) is not None
    (out,) = ui.handle(user, "/huy")
    assert "Đã dừng bài trắc nghiệm" in out.text


async def test_a_number_on_no_button_while_the_bot_waits_for_text_is_that_text(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7014)
    await app.process_update(make.text("/donvi"))
    await app.process_update(make.text("37"))
    assert "không có trong menu" not in api.last_text()
    assert core.storage.get_prompt(core.identify("telegram", "7014").id) is not None, "still waiting for the unit"


def test_on_a_clause_the_sub_clauses_come_first_so_two_is_its_second_sub_clause(zalo, kb):
    ui, user = zalo
    ui.handle(user, "/dieukhoan")
    ui.handle(user, "9")
    (out,) = ui.handle(user, "2")
    assert out.text.startswith("Khoản 9.2: ")


async def test_zero_typed_after_telegram_buttons_is_the_main_menu_as_on_zalo(offline_app):
    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=7015)
    await app.process_update(make.text("/lich"))
    await app.process_update(make.text("0"))
    assert api.last_text().startswith("Xin chào Lan!")
