"""Quizzes: the bank, native quiz polls through the real Application, restarts, spaced repetition, leaderboards."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bot.dialog import Core, User
from bot.quizzes import INTERVALS, RETIRED_BOX, next_review, pick_questions
from bot.storage import Storage
from tests.telegram_offline import UpdateFactory


def test_question_bank_is_large_sourced_and_valid(kb):
    assert len(kb.quizzes) >= 120
    topics = {q.topic for q in kb.quizzes.values()}
    assert {"danh-gia-noi-bo", "xem-xet-lanh-dao", "phap-ly", "tai-lieu", "cai-tien", "hoach-dinh"} <= topics
    for q in kb.quizzes.values():
        assert 3 <= len(q.options) <= 4 and len(set(q.options)) == len(q.options)
        assert 0 <= q.answer < len(q.options) and len(q.explanation) <= 200
        assert q.entry in kb.entries


def test_leitner_schedule():
    today = date(2026, 11, 25)
    assert next_review(3, False, today) == (1, today + timedelta(days=1))
    box, due = next_review(1, True, today)
    assert box == 2 and due == today + timedelta(days=INTERVALS[2])
    assert next_review(RETIRED_BOX - 1, True, today) == (RETIRED_BOX, None)


def test_due_reviews_come_first(kb):
    due = list(kb.quizzes)[:3]
    chosen = pick_questions(kb, None, 10, due, set(), random.Random(1))
    assert set(due) <= set(chosen) and len(chosen) == 10


def test_missed_question_comes_back_after_growing_intervals(kb, searcher, config):
    """A controlled clock: wrong today → due tomorrow; right → 3 days later, then 7 …"""
    clock = {"today": date(2026, 11, 25)}
    core = Core(kb, searcher, Storage(config.database), today=lambda: clock["today"])
    user = User(11, "Lan")
    r = core.press(user, "ql:tai-lieu:5")
    p = r.poll
    missed = core.storage.get_quiz(p.session_id)["questions"][0]
    core.press(user, f"qa:{p.session_id}:0:{(p.correct + 1) % len(p.options)}")
    assert core.storage.due_reviews(11, "2026-11-25") == []
    assert missed in core.storage.due_reviews(11, "2026-11-26")
    for days_later, expected_gap in ((1, INTERVALS[2]), (INTERVALS[2], INTERVALS[3])):
        clock["today"] += timedelta(days=days_later)
        r = core.press(user, "ql:mix:5")
        session = core.storage.get_quiz(r.poll.session_id)
        assert missed in session["questions"], "the due review is part of the next quiz"
        idx = session["questions"].index(missed)
        q = kb.quizzes[missed]
        core.quizzes.storage.db.execute("UPDATE quiz_sessions SET position = ? WHERE id = ?", [idx, session["id"]])
        core.press(user, f"qa:{session['id']}:{idx}:{q.answer}")  # right this time
        assert missed not in core.storage.due_reviews(
            11, (clock["today"] + timedelta(days=expected_gap - 1)).isoformat()
        )
        assert missed in core.storage.due_reviews(11, (clock["today"] + timedelta(days=expected_gap)).isoformat())


@pytest.fixture
def tg(offline_app):
    return offline_app


async def test_quiz_with_native_polls_survives_a_restart(tg):
    app, api, core = await tg()
    make = UpdateFactory(app.bot, user_id=321)
    await app.process_update(make.text("/quiz"))
    await app.process_update(make.press("ql:phap-ly:5", api.messages[max(api.messages)]))
    poll = api.polls[-1]
    assert poll["type"] == "quiz" and poll["is_anonymous"] is False and poll["question"].startswith("Câu 1/5")
    await app.process_update(make.vote(poll["id"], poll["correct_option_ids"][0]))
    assert api.polls[-1]["question"].startswith("Câu 2/5 · đúng 1")
    second = api.polls[-1]
    await app.process_update(make.vote(poll["id"], 0))  # a repeated vote on the first poll changes nothing
    assert len(api.polls) == 2
    await app.shutdown()

    app2, api2, core2 = await tg()  # restart: the poll sent before still counts
    make2 = UpdateFactory(app2.bot, user_id=321)
    await app2.process_update(make2.vote(second["id"], (second["correct_option_ids"][0] + 1) % len(second["options"])))
    assert api2.polls[-1]["question"].startswith("Câu 3/5 · đúng 1")
    for _ in range(3):
        last = api2.polls[-1]
        await app2.process_update(make2.vote(last["id"], last["correct_option_ids"][0]))
    text = api2.last_text()
    assert "Kết quả: đúng 4/5" in text and "Những câu cần xem lại" in text
    assert any(d.startswith("e:") for _, d in api2.last_buttons()), "a missed question links to its entry"


async def test_unknown_poll_and_stale_quiz_buttons(tg):
    app, api, core = await tg()
    make = UpdateFactory(app.bot, user_id=322)
    await app.process_update(make.vote("poll-unknown", 1))
    assert api.calls == [] or all(m != "sendMessage" for m, _ in api.calls)
    await app.process_update(make.text("/start"))
    await app.process_update(make.press("qa:99999:0:1", api.messages[max(api.messages)]))
    assert "không còn dùng được" in api.sent("answerCallbackQuery")[-1]["text"]


def test_leaderboards_by_unit_and_colleague(core, kb):
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    other = core.storage.get_or_create_unit("phường", "Phường Tam Thanh", 20, "Lạng Sơn", 6000)
    for uid, name, unit_id, right in ((1, "Lan", unit, 5), (2, "Hùng", unit, 3), (3, "Mai", other, 1)):
        core.storage.touch_user(uid, name)
        core.storage.set_user_unit(uid, unit_id, confirmed=True)
        r = core.press(User(uid, name), "ql:mix:5")
        s = core.storage.get_quiz(r.poll.session_id)
        for i, qid in enumerate(s["questions"]):
            q = kb.quizzes[qid]
            core.press(
                User(uid, name), f"qa:{s['id']}:{i}:{q.answer if i < right else (q.answer + 1) % len(q.options)}"
            )
    text = core.command(User(1, "Lan"), "bangxephang").text
    assert text.index("Xã Lộc Bình: 80 điểm · 2/2 người") < text.index("Phường Tam Thanh: 20 điểm · 1/1 người")
    assert text.index("1. Lan: 100 điểm") < text.index("2. Hùng: 60 điểm")


def test_a_pending_member_is_told_why_the_units_board_is_empty(core, kb):
    """Zalo report §13: «Chưa có đơn vị nào làm bài» above the person's own score, with no reason."""
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.touch_user(5, "Hoa")
    core.storage.set_user_unit(5, unit)  # pending: the Sở has not confirmed her
    r = core.press(User(5, "Hoa"), "ql:mix:5")
    s = core.storage.get_quiz(r.poll.session_id)
    for i, qid in enumerate(s["questions"]):
        core.press(User(5, "Hoa"), f"qa:{s['id']}:{i}:{kb.quizzes[qid].answer}")
    text = core.command(User(5, "Hoa"), "bangxephang").text
    assert "chưa được tính vào xếp hạng đơn vị" in text and "chờ Sở KH&CN xác nhận" in text
    core.storage.confirm_member(5, None)
    assert "chưa được tính" not in core.command(User(5, "Hoa"), "bangxephang").text


async def test_daily_question_job_is_scheduled_and_restored(offline_app):
    app, api, _ = await offline_app()
    make = UpdateFactory(app.bot, user_id=77)
    await app.process_update(make.text("/hangngay"))
    await app.process_update(make.press("qd:0700", api.messages[max(api.messages)]))
    assert "07:00" in api.last_text()
    assert "daily:77" in app.bot_data["scheduler"].jobs()
    await app.shutdown()

    app2, api2, _ = await offline_app()
    scheduler = app2.bot_data["scheduler"]
    assert "daily:77" not in scheduler.jobs()
    await scheduler.restore()  # start-up restores jobs from SQLite
    assert "daily:77" in scheduler.jobs()
    await scheduler._daily_job(77)
    assert api2.polls and api2.polls[-1]["question"].startswith("Câu 1/1")


def _walk(core, user, reply, depth=0):
    """Every (label, data) of the screens reached from ``reply`` through topic groups, with the largest
    number of options on one screen."""
    found, most = [], len([b for row in reply.buttons for b in row])
    for row in reply.buttons:
        for b in row:
            if b.data.startswith(("qg:", "qv:")) and depth < 2:
                inner, n = _walk(core, user, core.press(user, b.data), depth + 1)
                found, most = found + inner, max(most, n)
            else:
                found.append((b.label, b.data))
    return found, most


@pytest.mark.parametrize("start, topic_action", [("quiz", "qt"), ("qn", "qo")])
def test_quiz_topics_come_in_groups_of_few_and_all_stay_reachable(kb, searcher, config, start, topic_action):
    """Play-test: /quiz and «Giao bài mới» listed 15 topics, 17 options, too many for a phone."""
    core = Core(kb, searcher, Storage(config.database), admin_ids={777})
    boss = User(777, "Thanh tra")
    first = core.command(boss, "quiz") if start == "quiz" else core.press(boss, start)
    assert len([b for row in first.buttons for b in row]) <= 6
    assert first.buttons[0][0].data == f"{topic_action}:mix", "«Trộn» stays the first option"
    reached, most = _walk(core, boss, first)
    assert most <= 10
    topics = {d.split(":")[1] for _, d in reached if d.startswith(topic_action + ":")} - {"mix"}
    assert topics == {q.topic for q in kb.quizzes.values()}
    assert core.press(boss, f"{topic_action}:danh-gia-noi-bo").text  # a topic still opens the lengths


def test_quiz_group_of_an_unknown_group_is_stale(kb, searcher, config):
    core = Core(kb, searcher, Storage(config.database))
    assert core.press(User(5), "qg:khong-co").stale


def test_team_quiz_assigned_taken_and_reported(kb, searcher, config):
    from io import BytesIO

    from openpyxl import load_workbook

    core = Core(
        kb, searcher, Storage(config.database), province="Lạng Sơn", admin_ids={777}, today=lambda: date(2026, 11, 25)
    )
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    other = core.storage.get_or_create_unit("phường", "Phường Tam Thanh", 20, "Lạng Sơn", 6000)
    for uid, u in ((31, unit), (32, unit), (33, other)):
        core.storage.touch_user(uid, f"u{uid}")
        core.storage.set_user_unit(uid, u, confirmed=True)
    boss = User(777, "Thanh tra")
    assert "chỉ dành cho" in core.press(User(31), "qn").text
    core.press(boss, "qn")
    core.press(boss, "qo:danh-gia-noi-bo")
    core.press(boss, "qy:5")
    refused = core.text(boss, "01/01/2020").text
    assert "Ngày 01/01/2020 đã qua" in refused and "«thứ Sáu tuần sau»" in refused
    assert "Không có ngày 31/11" in core.text(boss, "31/11").text
    core.text(boss, "15/12")  # this year's, the next 15/12 not in the past
    confirm = core.text(boss, "Lộc Bình, xa khong co that")
    assert "Cho 1 đơn vị (2 người): Xã Lộc Bình" in confirm.text and "hạn 15/12/2026" in confirm.text
    assert "Không tìm thấy đơn vị đã đăng ký nào tên «xa khong co that»" in confirm.text
    assert core.storage.unfinished_broadcasts() == [], "nothing is sent before «Gửi»"
    assert "Cho 2 đơn vị (3 người)" in core.text(boss, "Tam Thanh").text  # a name added
    assert "Bài chưa được gửi" in core.text(boss, "ok").text
    assert "Cho 2 đơn vị" in core.text(boss, "Tam Thanh").text  # added once
    core.press(boss, "qc")
    assert core.storage.get_prompt(777) is None and core.storage.unfinished_broadcasts() == []
    assert core.press(boss, "qs").stale, "«Gửi» after «Huỷ» sends nothing"
    core.press(boss, "qn")
    assert "qc" in [b.data for row in core.press(boss, "qo:danh-gia-noi-bo").buttons for b in row]
    core.press(boss, "qy:5")
    core.text(boss, "15/12")
    core.text(boss, "Lộc Bình")
    created = core.press(boss, "qs")
    assert "cho 1 đơn vị (2 người)" in created.text
    (b,) = core.storage.unfinished_broadcasts()  # made at once, sent by the scheduler of the process
    assert "hạn 15/12/2026" in b["text"] and b["text"].endswith("\n\n— đoàn kiểm tra") and b["total"] == 2
    assert core.storage.broadcast_links(b["id"]) == [("▶️ Làm bài #1", "qk:1")], "a button, not «gõ /lambai 1»"
    assert "không giao cho đơn vị" in core.command(User(33), "lambai", "1").text
    r = core.press(User(31), "qk:1")
    s = core.storage.get_quiz(r.poll.session_id)
    assert s["assignment_id"] == 1 and all(kb.quizzes[q].topic == "danh-gia-noi-bo" for q in s["questions"])
    for i, qid in enumerate(s["questions"]):
        q = kb.quizzes[qid]
        core.press(User(31), f"qa:{s['id']}:{i}:{q.answer if i < 4 else (q.answer + 1) % len(q.options)}")
    results = core.press(boss, "qr:1").text
    assert "Xã Lộc Bình: 1/2 người đã làm · điểm TB 80" in results
    ws = load_workbook(BytesIO(core.press(boss, "qx:1").attachment.data)).active
    assert list(ws.iter_rows(min_row=2, values_only=True)) == [("Xã Lộc Bình", 2, 1, 80, 0)]
    late = Core(kb, searcher, core.storage, admin_ids={777}, today=lambda: date(2026, 12, 16))
    assert "hết hạn" in late.command(User(32), "lambai", "1").text


async def test_answering_with_a_button_through_the_application(tg):
    """The same answer path as polls, via an inline button (what the terminal chat uses)."""
    app, api, core = await tg()
    make = UpdateFactory(app.bot, user_id=323)
    await app.process_update(make.text("/quiz"))
    await app.process_update(make.press("ql:cai-tien:5", api.messages[max(api.messages)]))
    session = core.storage.open_quiz(323)
    first = api.polls[-1]
    await app.process_update(
        make.press(f"qa:{session['id']}:0:{first['correct_option_ids'][0]}", api.messages[max(api.messages)])
    )
    assert api.sent("answerCallbackQuery") and api.polls[-1]["question"].startswith("Câu 2/5 · đúng 1")
    await app.process_update(make.press(f"qa:{session['id']}:0:0", api.messages[max(api.messages)]))
    assert "đã được ghi nhận" in api.sent("answerCallbackQuery")[-1]["text"]


async def test_an_option_typed_during_a_quiz_points_to_the_poll(tg):
    app, api, core = await tg()
    make = UpdateFactory(app.bot, user_id=322)
    await app.process_update(make.text("/quiz"))
    await app.process_update(make.press("ql:phap-ly:5", api.messages[max(api.messages)]))
    polls = len(api.polls)
    await app.process_update(make.text("đáp án B"))
    assert "chạm vào phương án" in api.last_text() and len(api.polls) == polls
    await app.process_update(make.text("khoản 9.2 yêu cầu gì"))
    assert "Nguồn:" in api.last_text(), "a real question is still answered mid-quiz"


def team(kb, searcher, config, province: str = "Lạng Sơn") -> Core:
    """Xã Lộc Bình (31, 32) and Phường Tam Thanh (33) of Lạng Sơn, confirmed; the admin 777 has no unit."""
    core = Core(
        kb, searcher, Storage(config.database), province=province, admin_ids={777}, today=lambda: date(2026, 11, 25)
    )
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    other = core.storage.get_or_create_unit("phường", "Phường Tam Thanh", 20, "Lạng Sơn", 6000)
    for uid, u in ((31, unit), (32, unit), (33, other)):
        core.storage.touch_user(uid, f"u{uid}")
        core.storage.set_user_unit(uid, u, confirmed=True)
    return core


def assign(core: Core, deadline: str, *units: str) -> None:
    boss = User(777, "Thanh tra")
    for data in ("qn", "qo:danh-gia-noi-bo", "qy:5"):
        core.press(boss, data)
    core.text(boss, deadline)
    core.text(boss, ", ".join(units))
    core.press(boss, "qs")


def test_lambai_alone_starts_the_only_open_quiz_or_lists_them(kb, searcher, config):
    """Zalo §9 / Telegram §7: «/lambai» without a number said «Không có bài trắc nghiệm với mã này»."""
    core = team(kb, searcher, config)
    assert "Không có bài trắc nghiệm nào đang giao" in core.command(User(31), "lambai").text
    assign(core, "15/12", "Lộc Bình")
    started = core.command(User(31), "lambai")
    assert started.poll is not None and core.storage.get_quiz(started.poll.session_id)["assignment_id"] == 1
    assign(core, "20/12", "Lộc Bình, Tam Thanh")
    listed = core.command(User(32), "lambai")
    assert "#1" in listed.text and "#2" in listed.text and listed.poll is None
    assert ["qk:1", "qk:2"] == [b.data for row in listed.buttons for b in row if b.data.startswith("qk:")]
    assert core.command(User(33), "lambai").poll is not None, "Tam Thanh has only #2"


def test_all_units_of_the_province_without_a_province_asks_for_it_and_keeps_the_draft(kb, searcher, config):
    """Zalo §8: the admin with no province got «Chưa có đơn vị nào đăng ký trong tỉnh» and lost the draft."""
    core = team(kb, searcher, config, province="")
    boss = User(777, "Thanh tra")
    for data in ("qn", "qo:danh-gia-noi-bo", "qy:5"):
        core.press(boss, data)
    core.text(boss, "15/12")
    ask = core.press(boss, "qu")
    assert "gõ tên tỉnh" in ask.text and "Bài chưa được gửi" in ask.text and not ask.stale
    assert "Không có đơn vị nào" not in ask.text
    nowhere = core.text(boss, "Đồng Nai")
    assert "Chưa có đơn vị nào của Đồng Nai" in nowhere.text, "still waiting"
    confirm = core.text(boss, "tinh Lang Son")
    assert "Cho 2 đơn vị (3 người)" in confirm.text
    assert "hạn 15/12/2026" in confirm.text and "5 câu" in confirm.text
    assert "cho 2 đơn vị (3 người)" in core.press(boss, "qs").text
