"""Follow-up actions: a gap or a finding becomes a task with an owner and a due date; reminders;
closing with a note and evidence; "Việc của tôi"; what the next self-assessment shows."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.followups import parse_due
from bot.reply import Upload, User

ADMIN = 777
LAN, HUNG, MAI = User(31, "Lan"), User(32, "Hùng"), User(41, "Mai")
TODAY = date(2026, 12, 2)  # a Wednesday


@pytest.fixture
def clock():
    return {"today": TODAY}


@pytest.fixture
def make_core(lang_son, clock):
    return lambda: lang_son(
        today=lambda: clock["today"], now=lambda: datetime.combine(clock["today"], datetime.min.time()).replace(hour=9)
    )


def seed(core) -> int:
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    other = core.storage.get_or_create_unit("phường", "Phường Tam Thanh", 20, "Lạng Sơn", 6000)
    for user, u in ((LAN, unit), (HUNG, unit), (MAI, other)):
        core.storage.touch_user(user.id, user.first_name)
        core.storage.set_user_unit(user.id, u, confirmed=True)
    return unit


def finish(core, kb, user, answer=lambda i: "c" if i % 3 == 0 else "d"):
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(user.id, core.storage.unit_of(user.id)["id"], cl.id)
    reply = None
    for i in range(len(cl.items)):
        reply = core.press(user, f"ca:{run['id']}:{i}:{answer(i)}")
    return run["id"], reply


def data_of(reply, prefix: str) -> str:
    return next(b.data for row in reply.buttons for b in row if b.data.startswith(prefix))


def new_task_from_first_gap(core, kb, owner=HUNG, due="15/12"):
    run_id, result = finish(core, kb, LAN)
    core.press(LAN, data_of(result, "vg:"))
    core.press(LAN, f"vo:{owner.id}")
    core.text(LAN, due)
    return run_id, core.press(LAN, "vk")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("15/12", date(2026, 12, 15)),
        ("15/12/2026", date(2026, 12, 15)),
        ("15-12", date(2026, 12, 15)),
        ("1/2", date(2027, 2, 1)),
        ("cuối tháng", date(2026, 12, 31)),
        ("cuoi thang", date(2026, 12, 31)),
        ("2 tuần", date(2026, 12, 16)),
        ("10 ngày nữa", date(2026, 12, 12)),
        ("thứ Hai tuần sau", date(2026, 12, 7)),
        ("thu 6", date(2026, 12, 4)),
        ("31/2", None),
        ("1/12/2026", None),
        ("hôm qua", None),
        ("ok", None),
    ],
)
def test_due_dates_typed_naturally(text, expected):
    assert parse_due(text, TODAY) == expected


def test_a_gap_becomes_a_task_the_owner_is_told_and_sees_it(make_core, kb):
    core = make_core()
    seed(core)
    run_id, result = finish(core, kb, LAN)
    assert "➕ Tạo việc khắc phục điểm 1" in [b.label for row in result.buttons for b in row]
    owners = core.press(LAN, data_of(result, "vg:"))
    assert "Ai phụ trách việc này?" in owners.text
    labels = [b.label for row in owners.buttons for b in row]
    assert labels[:2] == ["👤 Tôi", "👤 Hùng"] and "👤 Mai" not in labels  # only the unit's people
    assert "Hạn hoàn thành" in core.press(LAN, "vo:32").text
    assert "chưa hiểu ngày" in core.text(LAN, "31/2").text
    confirm = core.text(LAN, "15/12")
    assert "Phụ trách: Hùng" in confirm.text and "Hạn: 15/12/2026" in confirm.text
    saved = core.press(LAN, "vk")
    assert "Đã lưu việc #1" in saved.text and "Nguồn: Tự đánh giá «Sẵn sàng đánh giá nội bộ»" in saved.text
    (told,) = core.storage.unfinished_broadcasts()
    assert "Anh/chị được giao việc #1 (Xã Lộc Bình)" in told["text"] and "Hạn: 15/12/2026" in told["text"]
    assert [d["user_id"] for d in core.storage.db.query("SELECT user_id FROM deliveries")] == [32]
    mine = core.command(HUNG, "viec")
    assert "Việc khắc phục được giao (1)" in mine.text and "#1 " in mine.text and "hạn 15/12/2026" in mine.text
    assert "Chưa có việc nào" in core.command(LAN, "viec").text
    again = core.press(LAN, f"cr:{run_id}")
    assert "📌 Việc #1: Hùng, hạn 15/12/2026" in again.text
    assert "Điểm này đã có việc khắc phục đang mở" in core.press(LAN, data_of(result, "vg:")).text


def test_the_owner_is_reminded_before_and_on_the_due_date_once_each(make_core, kb, clock):
    core = make_core()
    seed(core)
    new_task_from_first_gap(core, kb, due="15/12")
    assigned = len(core.storage.unfinished_broadcasts())
    assert core.followups.due_notices() == []  # 2/12: too early
    clock["today"] = date(2026, 12, 12)
    (before,) = core.followups.due_notices()
    assert "Còn 3 ngày đến hạn việc #1" in core.storage.get_broadcast(before)["text"]
    assert core.followups.due_notices() == []  # once
    clock["today"] = date(2026, 12, 15)
    (due,) = core.followups.due_notices()
    assert "Hôm nay đến hạn việc #1" in core.storage.get_broadcast(due)["text"]
    clock["today"] = date(2026, 12, 16)
    assert core.followups.due_notices() == []
    assert len(core.storage.unfinished_broadcasts()) == assigned + 2
    assert "quá hạn 1 ngày" in core.command(HUNG, "viec").text


def test_a_late_task_found_at_start_up_gets_one_late_reminder(make_core, kb, clock):
    core = make_core()
    seed(core)
    new_task_from_first_gap(core, kb, due="5/12")
    clock["today"] = date(2026, 12, 9)  # the bot was down on the 2nd and the 5th
    (late,) = core.followups.due_notices()
    assert "đã quá hạn 4 ngày" in core.storage.get_broadcast(late)["text"]
    assert core.followups.due_notices() == []


def test_closing_with_a_photo_and_a_note_and_the_creator_is_told(make_core, kb):
    core = make_core()
    seed(core)
    new_task_from_first_gap(core, kb)
    prompt = core.press(HUNG, "vd:1")
    assert "gõ ngắn kết quả đã làm" in prompt.text
    photo = Upload("photo", "AgACAgIAAxk", "anh.jpg", data=b"\xff\xd8\xff fake jpeg")
    assert "Đã lưu bằng chứng cho việc #1" in core.non_text(HUNG, "", photo).text
    closed = core.text(HUNG, "Đã trình Chủ tịch phê duyệt chương trình năm 2027")
    assert "Đã đóng việc #1" in closed.text and "Kết quả: Đã trình Chủ tịch" in closed.text
    assert "Bằng chứng: 1 tệp/ảnh" in closed.text
    shown = core.press(LAN, data_of(closed, "ve:"))  # a colleague of the unit opens it
    assert shown.attachment.kind == "photo" and shown.attachment.data == photo.data
    assert core.press(MAI, data_of(closed, "ve:")).stale  # another commune may not
    assert core.press(MAI, "vt:1").stale
    texts = [b["text"] for b in core.storage.unfinished_broadcasts()]
    assert any("Việc #1" in t and "được Hùng báo hoàn thành" in t for t in texts)
    assert core.press(HUNG, "vd:1").stale  # already closed


def test_a_photo_without_a_waiting_task_is_not_evidence(make_core):
    core = make_core()
    seed(core)
    reply = core.non_text(LAN, "", Upload("photo", "AgAC", "a.jpg"))
    assert "Nguồn:" not in reply.text and core.storage.db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == 0


def test_a_finding_of_the_inspection_team_becomes_a_task(make_core):
    core = make_core()
    seed(core)
    assert "từ đâu" in core.press(LAN, "va").text
    core.press(LAN, "vn:inspection")
    core.text(LAN, "Quy trình cấp bản sao chưa cập nhật theo danh mục TTHC mới")
    core.press(LAN, "vs")  # "khắc phục đúng nội dung trên"
    core.press(LAN, "vo:31")
    confirm = core.press(LAN, "vq:eom")
    assert "Hạn: 31/12/2026" in confirm.text and "Phụ trách: Lan" in confirm.text
    saved = core.press(LAN, "vk")
    assert "Nguồn: 🏛 Đoàn kiểm tra của tỉnh" in saved.text
    assert core.storage.unfinished_broadcasts() == []  # my own task: nobody to tell
    unit_list = core.press(HUNG, "vu:0")
    assert "1 đang mở, 0 quá hạn" in unit_list.text and "· Lan — hạn 31/12/2026" in unit_list.text


def test_a_restart_mid_way_resumes_the_draft(make_core, kb):
    core = make_core()
    seed(core)
    _, result = finish(core, kb, LAN)
    core.press(LAN, data_of(result, "vg:"))
    core.press(LAN, "vo:32")
    restarted = make_core()
    assert "Hạn: 20/12/2026" in restarted.text(LAN, "20/12").text
    assert "Đã lưu việc #1" in restarted.press(LAN, "vk").text


def test_changing_due_date_and_owner_and_who_may(make_core, kb):
    core = make_core()
    seed(core)
    new_task_from_first_gap(core, kb)
    assert core.press(MAI, "vr:1").stale and core.press(MAI, "vy:1:41").stale
    core.press(LAN, "vr:1")
    assert "Đã đổi hạn thành 21/12/2026" in core.text(LAN, "21/12").text
    assert core.press(LAN, "vy:1:41").stale  # Mai is not of this unit
    assert "Đã giao việc cho Lan" in core.press(LAN, "vy:1:31").text
    assert core.storage.get_task(1)["owner_id"] == 31
    for data in ("vt:²", "vt:99999999999999999999", "vd:0", "ve:5", "vg:1:999", "vo:x"):
        assert core.press(LAN, data).stale, data


def test_the_next_self_assessment_shows_which_tasks_closed_which_gaps(make_core, kb):
    core = make_core()
    seed(core)
    new_task_from_first_gap(core, kb)
    core.press(HUNG, "vd:1")
    core.text(HUNG, "Đã phê duyệt chương trình")
    _, result = finish(core, kb, LAN, answer=lambda i: "d")  # everything fixed the second time
    # the runs are stamped by the database's clock (the real one), the task by the core's (TODAY):
    # the first run ended today in Vietnam, whatever the date the test runs on
    first_run_day = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")
    assert f"Đã khắc phục so với lần {first_run_day}" in result.text
    assert "việc #1 của Hùng, xong 02/12/2026" in result.text


def test_every_gap_is_listed_page_by_page(make_core, kb):
    core = make_core()
    seed(core)
    run_id, result = finish(core, kb, LAN, answer=lambda i: "c")
    n = len(kb.checklists["san-sang-dgnb"].items)
    seen = result.text.count("(Chưa đạt)")
    page, data = 1, data_of(result, "cq:")
    while True:
        screen = core.press(LAN, data)
        seen += screen.text.count("(Chưa đạt)")
        nxt = [b.data for row in screen.buttons for b in row if b.data.startswith("cq:")]
        if not nxt:
            break
        data, page = nxt[0], page + 1
    assert seen == n and page == -(-n // 4) - 1
    assert core.press(LAN, f"cq:{run_id}:99").stale


def test_my_work_gathers_checklists_guides_team_quizzes_and_reminders(make_core, kb):
    core = make_core()
    unit = seed(core)
    cl = kb.checklists["tieu-chuan"]
    core.storage.start_run(LAN.id, unit, cl.id)
    guide = next(iter(kb.guides.values()))
    core.storage.save_guide_step(LAN.id, guide.id, 1)
    aid = core.storage.create_assignment(ADMIN, "mix", 5, "2026-12-20", [unit])
    core.storage.save_reminder(
        {
            "created_by": ADMIN,
            "text": "Nộp báo cáo ISO năm",
            "target": "units",
            "target_arg": str(unit),
            "kind": "once",
            "at": "2026-12-10T08:00:00+07:00",
            "status": "active",
            "next_run": "2026-12-10T08:00:00+07:00",
        }
    )
    mine = core.command(LAN, "viec")
    assert "Tự đánh giá đang làm dở" in mine.text and cl.title in mine.text
    assert "Hướng dẫn đang xem dở" in mine.text and f"{guide.title}: bước 2/" in mine.text
    assert f"#{aid} 🔀 Trộn các chủ đề, 5 câu" in mine.text and "hạn 20/12/2026" in mine.text
    assert "Nộp báo cáo ISO năm" in mine.text
    take = data_of(mine, "qk:")
    started = core.press(LAN, take)
    assert "Bắt đầu 5 câu" in started.text and started.poll is not None
    assert core.storage.get_quiz(started.poll.session_id)["assignment_id"] == aid
    assert "Nộp báo cáo ISO năm" not in core.command(MAI, "viec").text  # not for her unit
    assert "📌 Việc của tôi" in [b.label for row in core.command(LAN, "start").buttons for b in row]


def test_results_can_be_reopened_from_the_checklist_menu(make_core, kb):
    core = make_core()
    seed(core)
    run_id, _ = finish(core, kb, LAN)
    home = core.command(LAN, "tudanhgia")
    assert data_of(home, "cr:") == f"cr:{run_id}"
    assert "Hoàn thành: Sẵn sàng đánh giá nội bộ" in core.press(LAN, f"cr:{run_id}").text
    assert core.press(HUNG, f"cr:{run_id}").stale  # someone else's run


async def test_evidence_photo_and_document_on_telegram_through_the_application(offline_app):
    """The real PTB Application on real Update objects: a photo while the bot waits for a task's
    evidence is kept by file_id; a document with a caption closes the task with the caption as the
    note; the evidence is sent back by its file_id."""
    from tests.telegram_offline import UpdateFactory

    app, api, core = await offline_app()
    make = UpdateFactory(app.bot, user_id=31, first_name="Lan")
    await app.process_update(make.text("/start"))
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.set_user_unit(31, unit, confirmed=True)
    tid = core.storage.create_task(
        {
            "unit_id": unit,
            "created_by": 31,
            "owner_id": 31,
            "source": "audit",
            "finding": "Chưa có chương trình đánh giá năm",
            "what": "Lập chương trình",
            "due": "2026-12-20",
        }
    )
    await app.process_update(make.text("/viec"))
    assert (f"📌 #{tid} Lập chương trình", f"vt:{tid}") in api.last_buttons()
    await app.process_update(make.press(f"vd:{tid}", api.messages[max(api.messages)]))
    assert "Có ảnh hoặc tệp làm bằng chứng thì gửi kèm" in api.last_text()
    await app.process_update(make.photo())
    assert "Đã lưu bằng chứng cho việc" in api.last_text()
    await app.process_update(make.document("ct-dgnb-2027.pdf", caption="Đã ban hành chương trình"))
    assert "Đã đóng việc" in api.last_text() and "Bằng chứng: 2 tệp/ảnh" in api.last_text()
    kinds = [(e["kind"], e["ref"], e["name"]) for e in core.storage.evidence_of(tid)]
    assert kinds == [("photo", "p1", "anh-pu1.jpg"), ("document", "d1", "ct-dgnb-2027.pdf")]
    await app.process_update(
        make.press(f"ve:{core.storage.evidence_of(tid)[0]['id']}", api.messages[max(api.messages)])
    )
    assert api.sent("sendPhoto")[-1]["photo"] == "p1"
    await app.shutdown()
