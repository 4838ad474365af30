"""Units and self-assessment checklists: the wizard through the real Application, restarts, scores, reports."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from bot import units
from bot.checklists import NOTE_MAX_CHARS, score
from bot.dialog import User
from tests.telegram_offline import UpdateFactory


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("xa Loc Binh", "Xã Lộc Bình"),
        ("p. Tam Thanh", "Phường Tam Thanh"),
        ("Xã Lộc Bìnhh", "Xã Lộc Bình"),
        ("phuong hoan kiem", "Phường Hoàn Kiếm"),
    ],
)
def test_unit_names_typed_loosely_are_found(typed, expected):
    lang_son = units.find_province("lang son")
    assert units.match_wards(typed, lang_son.code)[0].name == expected


def test_official_post_2025_list():
    assert len(units.provinces()) == 34
    assert len(units.wards()) == 3321


def test_checklists_meet_the_minimum_sizes(kb):
    sizes = {cid: len(c.items) for cid, c in kb.checklists.items()}
    assert sizes["kiem-tra-tinh"] >= 20 and sizes["tieu-chuan"] >= 40
    assert sizes["san-sang-dgnb"] >= 10 and sizes["san-sang-xxld"] >= 10
    for c in kb.checklists.values():
        for i in c.items:
            assert i.question and i.why and i.evidence and i.action and i.sources and 1 <= i.weight <= 3


def test_score_leaves_out_not_applicable_and_weights_items(kb):
    cl = kb.checklists["san-sang-xxld"]
    items = cl.items
    answers = {items[0].id: "dat", items[1].id: "chua-dat", items[2].id: "khong-ap-dung", items[3].id: "mot-phan"}
    r = score(cl, answers)
    w = [i.weight for i in items[:4]]
    expected = round(100 * (w[0] * 1 + w[3] * 0.5) / (w[0] + w[1] + w[3]), 1)
    assert r.overall == expected
    gap_ids = [i.id for i, _ in r.gaps]
    assert items[1].id in gap_ids and items[2].id not in gap_ids and items[0].id not in gap_ids
    assert [i.weight for i, _ in r.gaps] == sorted((i.weight for i, _ in r.gaps), reverse=True)


def _last_message(api):
    return api.messages[max(api.messages)]


@pytest.fixture
def bot(offline_app):
    return lambda: offline_app(province="Lạng Sơn")


async def test_register_unit_by_typing_its_name(bot):
    app, api, core = await bot()
    make = UpdateFactory(app.bot, user_id=501)
    await app.process_update(make.text("/start"))
    assert "chưa đăng ký đơn vị" in api.last_text()
    await app.process_update(make.text("/donvi"))
    await app.process_update(make.text("xa loc binh"))
    label, data = api.last_buttons()[0]
    assert label == "Xã Lộc Bình (Lạng Sơn)"
    await app.process_update(make.press(data, _last_message(api)))
    assert "Xã Lộc Bình (Lạng Sơn)" in api.last_text()
    assert core.storage.unit_of(501)["name"] == "Xã Lộc Bình"
    await app.process_update(make.text("/toi"))
    assert "Đơn vị: Xã Lộc Bình (Lạng Sơn)" in api.last_text()
    await app.process_update(make.text("đánh giá nội bộ là gì"))
    assert "Nguồn:" in api.last_text(), "after registering, text is a question again"


async def test_typing_huy_while_asked_for_the_unit_cancels_like_the_command(bot):
    app, api, core = await bot()
    make = UpdateFactory(app.bot, user_id=503)
    await app.process_update(make.text("/donvi"))
    await app.process_update(make.text("hủy"))
    assert core.storage.get_prompt(503) is None and core.storage.unit_of(503) is None
    assert "«hủy»" not in api.last_text()
    await app.process_update(make.text("đánh giá nội bộ là gì"))
    assert "Nguồn:" in api.last_text(), "the next message is a question again"


async def test_agency_registration_and_cancel(bot):
    app, api, core = await bot()
    make = UpdateFactory(app.bot, user_id=502)
    await app.process_update(make.text("/donvi"))
    await app.process_update(make.press("ua", _last_message(api)))
    await app.process_update(make.text("Sở Nội vụ tỉnh Lạng Sơn"))
    assert core.storage.unit_of(502)["kind"] == "co-quan"
    await app.process_update(make.text("/donvi"))
    await app.process_update(make.text("/huy"))
    assert core.storage.get_prompt(502) is None


async def test_wizard_resumes_after_restart_and_finishes_with_scores(bot, kb):
    app, api, core = await bot()
    make = UpdateFactory(app.bot, user_id=600)
    cl = kb.checklists["san-sang-xxld"]
    await app.process_update(make.text("/tudanhgia"))
    await app.process_update(make.press(f"co:{cl.id}", _last_message(api)))
    assert f"Câu 1/{len(cl.items)}" in api.last_text() and api.calls[-1][0] == "editMessageText"
    run_id = core.storage.open_run(600, cl.id)["id"]
    msg = _last_message(api)
    for i, code in enumerate("dpc"):
        await app.process_update(
            make.press(f"ca:{run_id}:{i}:{code}", api.messages[(msg["chat"]["id"], msg["message_id"])])
        )
    assert f"Câu 4/{len(cl.items)}" in api.last_text()
    old_message = api.messages[(msg["chat"]["id"], msg["message_id"])]
    await app.shutdown()

    app2, api2, core2 = await bot()  # a new Application on the same SQLite file
    make2 = UpdateFactory(app2.bot, user_id=600)
    await app2.process_update(make2.text("/tudanhgia"))
    label, data = api2.last_buttons()[0]
    assert label.startswith(f"▶️ Làm tiếp: {cl.title} (câu 4/")
    await app2.process_update(make2.press(data, _last_message(api2)))
    assert f"Câu 4/{len(cl.items)}" in api2.last_text()
    # answer the rest with "Không áp dụng" for one and "Đạt" for the others, from the pre-restart message
    for i in range(3, len(cl.items)):
        await app2.process_update(make2.press(f"ca:{run_id}:{i}:{'n' if i == 3 else 'd'}", old_message))
    text = api2.last_text()
    assert "Hoàn thành" in text and "Điểm chung:" in text
    result = core2.checklists.result_of(core2.storage.get_run(run_id))
    assert f"Điểm chung: {result.overall:.0f}/100" in text
    assert core2.storage.get_run(run_id)["status"] == "done"
    # a button from the finished run is refused politely
    await app2.process_update(make2.press(f"ca:{run_id}:2:d", old_message))
    assert "đã kết thúc" in api2.sent("answerCallbackQuery")[-1]["text"]


async def test_text_instead_of_button_and_note(bot, kb):
    app, api, core = await bot()
    make = UpdateFactory(app.bot, user_id=601)
    cl = kb.checklists["kiem-tra-tinh"]
    await app.process_update(make.text("/tudanhgia"))
    await app.process_update(make.press(f"co:{cl.id}", _last_message(api)))
    run_id = core.storage.open_run(601, cl.id)["id"]
    await app.process_update(make.text("ok"))
    assert "bấm một nút" in api.last_text() and "Câu 1/" in api.last_text()
    await app.process_update(make.text("đạt"))  # a typed answer answers the item
    assert "Đã lưu câu trả lời câu 1" in api.last_text() and "Câu 2/" in api.last_text()
    assert core.storage.run_answers(run_id)[cl.items[0].id]["answer"] == "dat"
    await app.process_update(make.press(f"cn:{run_id}:0", _last_message(api)))
    await app.process_update(make.text("đã có quyết định số 12 nhưng chưa kiện toàn"))
    assert "Đã lưu ghi chú cho câu 1" in api.last_text() and "Câu 2/" in api.last_text(), "back to where I was"
    assert core.storage.run_answers(run_id)[cl.items[0].id]["note"].startswith("đã có quyết định số 12")


@pytest.mark.parametrize(
    "data", ["ca:999999:0:d", "ca:abc:0:d", "ca:{run}:0:z", "ca:{run}:999:d", "cg:{run}:x", "cd:{run}"]
)
async def test_forged_checklist_buttons_are_refused(bot, kb, data):
    app, api, core = await bot()
    make = UpdateFactory(app.bot, user_id=602)
    run = core.storage.start_run(602, None, "san-sang-dgnb")
    await app.process_update(make.text("/start"))
    await app.process_update(make.press(data.format(run=run["id"]), _last_message(api)))
    assert "không còn" in api.sent("answerCallbackQuery")[-1]["text"]


async def test_another_users_run_is_refused(bot):
    app, api, core = await bot()
    run = core.storage.start_run(700, None, "san-sang-dgnb")
    intruder = UpdateFactory(app.bot, user_id=701)
    await app.process_update(intruder.text("/start"))
    await app.process_update(intruder.press(f"ca:{run['id']}:0:d", _last_message(api)))
    assert core.storage.run_answers(run["id"]) == {}


def _finish(core, user_id, checklist_id, codes):
    run = core.storage.start_run(
        user_id, core.storage.unit_of(user_id)["id"] if core.storage.unit_of(user_id) else None, checklist_id
    )
    reply = None
    for i, code in enumerate(codes):
        reply = core.press(User(user_id, "Lan"), f"ca:{run['id']}:{i}:{code}")
    return run["id"], reply


def test_results_compare_with_the_units_previous_run(core, kb):
    core.storage.touch_user(800, "Lan")
    unit_id = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.set_user_unit(800, unit_id)
    n = len(kb.checklists["san-sang-dgnb"].items)
    _finish(core, 800, "san-sang-dgnb", "c" * n)
    core.storage.touch_user(801, "Hùng")
    core.storage.set_user_unit(801, unit_id)  # a colleague in the same unit
    run_id, reply = _finish(core, 801, "san-sang-dgnb", "d" * (n // 2) + "c" * (n - n // 2))
    assert "tăng" in reply.text and "so với lần trước (0)" in reply.text
    assert core.storage.get_run(run_id)["unit_id"] == unit_id


def test_chart_and_report_of_a_finished_run(core, kb):
    core.storage.touch_user(900, "Lan")
    n = len(kb.checklists["san-sang-xxld"].items)
    run_id, _ = _finish(core, 900, "san-sang-xxld", "dcpn" + "d" * (n - 4))
    core.storage.save_answer(run_id, kb.checklists["san-sang-xxld"].items[1].id, note="chưa có biên bản năm nay")
    chart = core.press(User(900, "Lan"), f"cc:{run_id}")
    assert chart.attachment.kind == "photo" and chart.attachment.data[:8] == b"\x89PNG\r\n\x1a\n"
    report = core.press(User(900, "Lan"), f"cd:{run_id}")
    doc = Document(io.BytesIO(report.attachment.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Báo cáo tự đánh giá" in text and "Nội dung cần khắc phục" in text
    assert kb.checklists["san-sang-xxld"].items[1].question in text
    all_cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "chưa có biên bản năm nay" in all_cells and "Không áp dụng" in all_cells
    assert any(n.startswith("word/media/") for n in zipfile.ZipFile(io.BytesIO(report.attachment.data)).namelist())


def test_checklist_report_command(core, kb, config_file, tmp_path):
    from bot.cli import main

    core.storage.touch_user(901, "Lan")
    n = len(kb.checklists["san-sang-dgnb"].items)
    run_id, _ = _finish(core, 901, "san-sang-dgnb", "d" * n)
    out = tmp_path / "r.docx"
    assert main(["checklist", "report", str(run_id), "--out", str(out), "--config", str(config_file)]) == 0
    assert "Sẵn sàng đánh giá nội bộ" in "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert main(["checklist", "report", "424242", "--config", str(config_file)]) == 1


def test_a_question_typed_while_registering_is_answered(core):
    core.command(User(950, "Lan"), "donvi")
    reply = core.text(User(950, "Lan"), "đánh giá nội bộ bao lâu làm một lần")
    assert "Nguồn:" in reply.text and "vẫn đang chờ tên đơn vị" in reply.text
    assert core.storage.get_prompt(950)[0] == "unit_name", "the registration goes on (Telegram report §11)"


def test_start_leaves_a_pending_note_prompt(core, kb):
    run = core.storage.start_run(960, None, "san-sang-dgnb")
    core.press(User(960), f"cn:{run['id']}:0")
    core.command(User(960), "start")
    reply = core.text(User(960), "đánh giá nội bộ là gì")
    assert "Nguồn:" in reply.text, "after /start, text is a question again, not a note"
    assert not (core.storage.run_answers(run["id"]).get(kb.checklists["san-sang-dgnb"].items[0].id) or {}).get("note")


def _buttons(reply):
    return [b.data for row in reply.buttons for b in row]


def test_unsure_text_mid_checklist_can_be_kept_as_the_note(core, kb):
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(970, None, cl.id)
    core.storage.set_position(run["id"], 2)
    reply = core.text(User(970), "đã có nhưng còn thiếu chữ ký")
    keep = f"cw:{run['id']}:2"
    assert keep in _buttons(reply) and "câu 3" in reply.text
    saved = core.press(User(970), keep)
    assert core.storage.run_answers(run["id"])[cl.items[2].id]["note"] == "đã có nhưng còn thiếu chữ ký"
    assert "Đã lưu ghi chú" in saved.text and f"ca:{run['id']}:2:d" in _buttons(saved)


def test_a_confident_answer_mid_checklist_offers_no_note_and_old_drafts_expire(core, kb):
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(971, None, cl.id)
    first = core.text(User(971), "đã có nhưng còn thiếu chữ ký")
    keep = next(d for d in _buttons(first) if d.startswith("cw:"))
    answered = core.text(User(971), "đánh giá nội bộ bao lâu làm một lần")
    assert "Nguồn:" in answered.text and not any(d.startswith("cw:") for d in _buttons(answered))
    late = core.press(User(971), keep)
    assert "không còn" in late.text
    assert not (core.storage.run_answers(run["id"]).get(cl.items[0].id) or {}).get("note")
    assert core.press(User(972), keep).text == core.press(User(972), "cw:99999:0").text  # someone else's: stale


def test_a_question_mid_checklist_offers_to_go_back_to_it(core, kb):
    # on Zalo the answer's numbers replace the checklist's: without this button the user is lost
    cl = kb.checklists["kiem-tra-tinh"]
    run = core.storage.start_run(974, None, cl.id)
    core.storage.save_answer(run["id"], cl.items[0].id, "dat")
    core.storage.save_answer(run["id"], cl.items[1].id, "dat")
    core.storage.set_position(run["id"], 2)
    answered = core.text(User(974), "đánh giá nội bộ bao lâu làm một lần")
    back = [b for row in answered.buttons for b in row if b.data == f"co:{cl.id}"]
    assert "Nguồn:" in answered.text and len(back) == 1 and "câu 3/" in back[0].label
    resumed = core.press(User(974), back[0].data)
    assert "Câu 3/" in resumed.text and cl.items[2].question in resumed.text
    # a checklist left hours ago is not pushed on every answer
    core.storage.db.execute("UPDATE answers SET updated = '2020-01-01T00:00:00+00:00' WHERE run_id = ?", [run["id"]])
    core.storage.db.execute("UPDATE runs SET started = '2020-01-01T00:00:00+00:00' WHERE id = ?", [run["id"]])
    later = core.text(User(974), "đánh giá nội bộ bao lâu làm một lần")
    assert "Nguồn:" in later.text and f"co:{cl.id}" not in _buttons(later)
    assert f"co:{cl.id}" not in _buttons(core.text(User(975), "đánh giá nội bộ bao lâu làm một lần"))


def test_without_an_open_checklist_unsure_text_offers_no_note(core):
    reply = core.text(User(973), "đã có nhưng còn thiếu chữ ký")
    assert not any(d.startswith("cw:") for d in _buttons(reply))


def test_a_long_note_is_kept_whole_and_one_over_the_limit_is_refused(core, kb):
    """Telegram report §3: a 2,438-character note was saved as 500 characters without a word."""
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(980, None, cl.id)
    long_note = ("Quyết định kiện toàn ban chỉ đạo ISO sau sáp nhập đã dự thảo, chưa ký. " * 40)[:2438]
    core.press(User(980), f"cn:{run['id']}:0")
    saved = core.text(User(980), long_note)
    assert "Đã lưu ghi chú cho câu 1" in saved.text
    assert core.storage.run_answers(run["id"])[cl.items[0].id]["note"] == long_note.strip()
    core.press(User(980), f"cn:{run['id']}:1")
    refused = core.text(User(980), "x" * (NOTE_MAX_CHARS + 1))
    assert "tối đa 3.000 ký tự" in refused.text and "chưa lưu" in refused.text
    assert not (core.storage.run_answers(run["id"]).get(cl.items[1].id) or {}).get("note")
    assert "Đã lưu ghi chú cho câu 2" in core.text(User(980), "ngắn gọn lại").text, "the prompt still waits"


def test_the_note_button_after_an_answer_notes_the_item_just_answered(core, kb):
    """Telegram report §9: «📝 Ghi chú» pressed right after «❌ Chưa đạt» on câu 4 went to câu 5."""
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(981, None, cl.id)
    core.storage.set_position(run["id"], 3)
    after = core.press(User(981), f"ca:{run['id']}:3:c")
    note = next(b for row in after.buttons for b in row if b.data.startswith("cn:"))
    assert "Câu 5/" in after.text and note.data == f"cn:{run['id']}:3" and note.label == "📝 Ghi chú câu 4"
    assert "ghi chú cho câu 4" in core.press(User(981), note.data).text
    saved = core.text(User(981), "chưa có biên bản họp")
    assert "Đã lưu ghi chú cho câu 4" in saved.text and "Câu 5/" in saved.text
    assert core.storage.run_answers(run["id"])[cl.items[3].id]["note"] == "chưa có biên bản họp"
    assert not (core.storage.run_answers(run["id"]).get(cl.items[4].id) or {}).get("note")


def test_a_note_typed_right_after_an_answer_is_offered_for_the_item_just_answered(core, kb):
    """Terminal play-test: "thieu bien ban hop" typed right after «Đạt một phần» on câu 2 was offered as
    the note of câu 3, while «📝 Ghi chú» on the same screen said câu 2."""
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(983, None, cl.id)
    core.storage.set_position(run["id"], 1)
    after = core.press(User(983), f"ca:{run['id']}:1:p")
    assert "Câu 3/" in after.text and "📝 Ghi chú câu 2" in [b.label for row in after.buttons for b in row]
    reply = core.text(User(983), "thieu bien ban hop")
    assert f"cw:{run['id']}:1" in _buttons(reply) and "câu 2" in reply.text and "câu 3" not in reply.text
    core.press(User(983), f"cw:{run['id']}:1")
    assert core.storage.run_answers(run["id"])[cl.items[1].id]["note"] == "thieu bien ban hop"


@pytest.mark.parametrize("typed", ["thieu bien ban", "co ke hoach nhung chua gui cac bo phan"])
def test_a_note_like_text_mid_checklist_is_offered_as_the_note_even_when_answered(core, kb, typed):
    """Telegram report §6: a note typed without «📝 Ghi chú» got a confident unrelated answer, and was lost."""
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(982, None, cl.id)
    core.storage.set_position(run["id"], 5)
    reply = core.text(User(982), typed)
    assert f"cw:{run['id']}:5" in _buttons(reply)
    core.press(User(982), f"cw:{run['id']}:5")
    assert core.storage.run_answers(run["id"])[cl.items[5].id]["note"] == typed


@pytest.mark.parametrize("typed", ["đánh giá nội bộ bao lâu làm một lần", "ai chủ trì họp xem xét lãnh đạo?"])
def test_a_question_mid_checklist_is_not_offered_as_a_note(core, kb, typed):
    run = core.storage.start_run(983, None, kb.checklists["san-sang-dgnb"].id)
    reply = core.text(User(983), typed)
    assert "Nguồn:" in reply.text and not any(d.startswith("cw:") for d in _buttons(reply))
    assert f"co:{run['checklist_id']}" in _buttons(reply)


def test_results_from_the_profile_show_the_results_and_a_rerun_asks_first(core, kb):
    """Telegram report §8 / Zalo §11: «📊 Kết quả tự đánh giá» opened the picker, whose "1" started a new run."""
    cl = kb.checklists["san-sang-dgnb"]
    core.storage.touch_user(984, "Hoa")
    assert "chưa hoàn thành bảng kiểm nào" in core.press(User(984), "cl").text
    run_id, _ = _finish(core, 984, cl.id, ["d"] * len(cl.items))
    results = core.press(User(984), "cl")
    assert _buttons(results)[0] == f"cr:{run_id}" and "Kết quả" in results.buttons[0][0].label
    profile_buttons = _buttons(core.command(User(984), "toi"))
    assert "cl" in profile_buttons and "ch" not in profile_buttons
    asked = core.press(User(984), f"co:{cl.id}")
    assert "đã hoàn thành" in asked.text and core.storage.open_run(984, cl.id) is None, "no run started yet"
    assert _buttons(asked)[:2] == [f"cs:{cl.id}", f"cr:{run_id}"]
    started = core.press(User(984), f"cs:{cl.id}")
    assert "Câu 1/" in started.text and core.storage.open_run(984, cl.id) is not None
    assert "Câu 1/" in core.press(User(984), f"co:{cl.id}").text, "an open run goes on without asking"


def test_typed_huy_mid_checklist_pauses_it_and_without_a_flow_is_no_question(core, kb):
    """Telegram report §10: "huy" without a slash was searched («Hồ sơ hết thời hạn lưu thì hủy thế nào?»)."""
    run = core.storage.start_run(985, None, kb.checklists["san-sang-dgnb"].id)
    assert "Đã tạm dừng ở câu 1/" in core.text(User(985), "huỷ").text
    assert "Đã tạm dừng ở câu 1/" in core.command(User(985), "huy").text
    core.storage.db.execute("UPDATE runs SET started = '2020-01-01T00:00:00+00:00' WHERE id = ?", [run["id"]])
    assert "Không có thao tác nào đang chờ" in core.text(User(985), "huy").text
