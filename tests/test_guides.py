"""Guides, forms and the yearly calendar: core logic, the real Application offline, restarts."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from bot import forms, loader, yearly
from bot.dialog import Core, User
from tests.telegram_offline import UpdateFactory

ROOT = Path(__file__).resolve().parent.parent


def test_every_guide_has_complete_steps_and_real_links(kb):
    assert {"danh-gia-noi-bo", "xem-xet-lanh-dao", "khac-phuc-kph", "muc-tieu-chat-luong", "cap-nhat-tthc"} <= set(
        kb.guides
    )
    for g in kb.guides.values():
        assert 6 <= len(g.steps) <= 15, g.id
        for s in g.steps:
            assert all((s.do, s.who, s.record, s.tip, s.mistake)), f"{g.id}: {s.title}"
            assert all(e in kb.entries for e in s.entries)
        assert g.forms and all(f in kb.forms for f in g.forms)
        assert g.sources


def problems_after_edit(tmp_path, file: str, old: str, new: str) -> list[str]:
    """Problems of a copy of the real knowledge base with one edit in ``file``."""
    root = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", root)
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return [str(p) for p in loader.load_with_problems(root)[1]]


def test_guide_with_unknown_entry_or_form_is_reported_with_line(tmp_path):
    problems = problems_after_edit(
        tmp_path, "guides/khac-phuc-kph.yaml", "forms: [phieu-kph]", "forms: [phieu-khong-co]"
    )
    assert any(p.startswith("knowledge/guides/khac-phuc-kph.yaml:") and "phieu-khong-co" in p for p in problems), (
        problems
    )


def test_a_broken_message_pattern_is_reported_with_line(tmp_path):
    # a curator's typo in a pattern would otherwise fail on every message the bot receives
    problems = problems_after_edit(
        tmp_path, "ui.yaml", 'shortcut_patterns_quiz: "trac nghiem|', 'shortcut_patterns_quiz: "(trac nghiem|'
    )
    assert any(p.startswith("knowledge/ui.yaml:") and "shortcut_patterns_quiz" in p for p in problems), problems


def test_form_offered_by_an_unknown_entry_is_reported_with_line(tmp_path):
    problems = problems_after_edit(
        tmp_path, "forms/phieu-kph.yaml", "entries: [ct-phieu-hdkp]", "entries: [ct-khong-co]"
    )
    assert any(p.startswith("knowledge/forms/phieu-kph.yaml:6:") and "ct-khong-co" in p for p in problems), problems


async def test_an_answer_offers_its_form_and_the_button_sends_the_docx(offline_app):
    app, api, _ = await offline_app()
    make = UpdateFactory(app.bot)
    await app.process_update(make.text("mẫu biên bản họp xem xét lãnh đạo ghi những gì"))
    assert ("📄 Tải mẫu: Biên bản họp xem xét của lãnh đạo", "fm:bien-ban-xxld") in api.last_buttons()
    await app.process_update(
        make.press("fm:bien-ban-xxld", {"message_id": 1, "date": 0, "chat": make.chat, "text": "x"})
    )
    (doc,) = api.sent("sendDocument")
    assert "Biên bản họp xem xét của lãnh đạo" in doc.get("caption", "")


def test_every_form_is_offered_by_an_answer(kb):
    assert all(f.entries for f in kb.forms.values())


def test_all_guides_and_forms_are_two_taps_from_start(core):
    user = User(1)
    start = core.command(user, "start")
    data = {b.data for row in start.buttons for b in row}
    assert {"gh", "fl"} <= data
    guide_list = core.press(user, "gh")
    opened = {b.data.split(":")[1] for row in guide_list.buttons for b in row if b.data.startswith("gs:")}
    assert opened == set(core.kb.guides)
    form_list = core.press(user, "fl")
    offered = {b.data[3:] for row in form_list.buttons for b in row if b.data.startswith("fm:")}
    assert offered == set(core.kb.forms)


def test_answer_links_the_guide_of_its_own_topic_first(core, kb):
    """dgnb-chuong-trinh is a step of two guides; the button under it opens the internal-audit one."""
    owners = [g.id for g in kb.guides.values() if any("dgnb-chuong-trinh" in s.entries for s in g.steps)]
    assert len(owners) >= 2
    reply = core.press(User(7), "e:dgnb-chuong-trinh")
    guide_buttons = [b.data for row in reply.buttons for b in row if b.data.startswith("gs:")]
    assert guide_buttons and guide_buttons[0].startswith("gs:danh-gia-noi-bo:")


def test_step_message_shows_progress_and_all_parts(core, kb):
    r = core.press(User(1), "gs:danh-gia-noi-bo:2")
    g = kb.guides["danh-gia-noi-bo"]
    text = r.text
    assert f"Bước 3/{len(g.steps)}" in text and "▰" in text and g.steps[2].title in text
    for label in ("Ai làm", "Hồ sơ để lại", "Mẹo", "Lỗi đoàn kiểm tra hay gặp"):
        assert label in text
    assert r.mode == "edit" and len(text) < 1500
    data = [b.data for row in r.buttons for b in row]
    assert "gs:danh-gia-noi-bo:1" in data and "gs:danh-gia-noi-bo:3" in data and "gl:danh-gia-noi-bo" in data


@pytest.mark.parametrize(
    "data", ["gs:khong-co:0", "gs:danh-gia-noi-bo:99", "gs:danh-gia-noi-bo:-1", "gl:x", "fm:khong-co"]
)
def test_bad_guide_buttons_get_the_stale_reply(core, data):
    assert "không còn dùng được" in core.press(User(1), data).text


def test_last_step_marks_the_guide_done(core, kb, storage):
    g = kb.guides["khac-phuc-kph"]
    core.press(User(3), f"gs:{g.id}:{len(g.steps) - 1}")
    r = core.press(User(3), f"gf:{g.id}")
    assert "Anh/chị đã đi hết" in r.text
    assert storage.guide_progress(3)[g.id]["done"] == 1
    assert any(b.label.startswith("✅") for row in core.command(User(3), "huongdan").buttons for b in row)


async def test_guide_resumes_after_restart_on_the_same_database(offline_app):
    """Step through a guide, stop the Application, start a new one on the same SQLite file, resume."""
    app, api, first = await offline_app()
    make = UpdateFactory(app.bot, user_id=77)
    await app.process_update(make.text("/huongdan"))
    msg = api.messages[max(api.messages)]
    await app.process_update(make.press("gs:xem-xet-lanh-dao:0", msg))
    msg = api.messages[(msg["chat"]["id"], msg["message_id"])]
    await app.process_update(make.press("gs:xem-xet-lanh-dao:3", msg))
    assert api.calls[-1][0] == "editMessageText", "the guide edits the same message"
    await app.shutdown()
    first.storage.close()

    app2, api2, _ = await offline_app()
    make2 = UpdateFactory(app2.bot, user_id=77)
    await app2.process_update(make2.text("/huongdan"))
    label, data = api2.last_buttons()[0]
    assert label.startswith("▶️ Làm tiếp: Tổ chức họp xem xét của lãnh đạo (bước 4/")
    assert data == "gs:xem-xet-lanh-dao:3"
    # a button from the message sent before the restart still works
    await app2.process_update(make2.press("gs:xem-xet-lanh-dao:4", msg))
    assert "Bước 5/" in api2.last_text()


@pytest.mark.parametrize(
    "form_id",
    [
        "chuong-trinh-dgnb",
        "ke-hoach-dgnb",
        "checklist-dgnb",
        "phieu-kph",
        "bao-cao-dgnb",
        "bien-ban-xxld",
        "muc-tieu-chat-luong",
    ],
)
def test_form_is_a_real_docx_with_administrative_layout(kb, form_id):
    data = forms.render(kb, form_id, unit="UBND xã Lộc Bình", year=2026)
    doc = Document(io.BytesIO(data))
    header = doc.tables[0].rows[0].cells
    assert "UBND XÃ LỘC BÌNH" in header[0].text and "Số:" in header[0].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header[1].text and "Độc lập - Tự do - Hạnh phúc" in header[1].text
    assert "năm 2026" in header[1].text
    form = kb.forms[form_id]
    texts = [p.text for p in doc.paragraphs]
    assert form.title.format(unit="", year=2026) in texts
    body_tables = [t for t in doc.tables[1:-1]]
    assert [tuple(c.text for c in t.rows[0].cells) for t in body_tables] == [
        s.columns for s in form.sections if s.columns
    ]
    signatures = doc.tables[-1].rows[0].cells
    assert [c.text.split("\n")[0] for c in signatures] == [s.split("\n")[0] for s in form.signatures]
    assert any("TCVN ISO" in t for t in texts[-3:]), "the form cites what it is based on"


def test_form_without_unit_uses_a_placeholder(kb):
    doc = Document(io.BytesIO(forms.render(kb, "phieu-kph", year=2027)))
    assert "TÊN CƠ QUAN, ĐƠN VỊ" in doc.tables[0].rows[0].cells[0].text


def test_form_command_writes_the_file(config_file, tmp_path):
    from bot.cli import main

    out = tmp_path / "bb.docx"
    assert (
        main(
            [
                "form",
                "bien-ban-xxld",
                "--out",
                str(out),
                "--unit",
                "UBND phường Tam Thanh",
                "--config",
                str(config_file),
            ]
        )
        == 0
    )
    assert "UBND PHƯỜNG TAM THANH" in Document(str(out)).tables[0].rows[0].cells[0].text
    assert main(["form", "khong-co", "--config", str(config_file)]) == 1


async def test_form_button_sends_a_document(offline_app):
    app, api, _ = await offline_app()
    make = UpdateFactory(app.bot)
    await app.process_update(make.text("/bieumau"))
    await app.process_update(make.press("fm:phieu-kph", {"message_id": 1, "date": 0, "chat": make.chat, "text": "x"}))
    assert api.sent("answerCallbackQuery")
    assert [m for m, _ in api.calls if m == "sendDocument"], api.calls


def test_calendar_dates_and_durations_in_vietnamese(kb, searcher, storage):
    core = Core(kb, searcher, storage, today=lambda: date(2026, 11, 24))
    text = core.press(User(1), yearly.YEAR.data()).text  # «📅 Xem cả năm»
    assert "Lịch ISO năm 2026" in text and "Thứ Ba, 24 tháng 11, 2026" in text
    assert "còn 21 ngày đến hết" in text  # the province report window ends 15/12
    # that window is practice: the Sở's letter sets the real deadline (TT 26 khoản 2 Điều 35), so the
    # window must not read as a deadline the Sở set
    report = next(line for line in text.splitlines() if line.startswith("1/11–15/12"))
    assert "thông lệ" in report and "hạn chính thức theo văn bản của Sở" in report, report
    assert "Thứ Ba, 15 tháng 12, 2026" in text  # next quarterly review starts then
    assert "đã qua" in text


@pytest.mark.parametrize("today", [date(2026, 12, 4), date(2026, 3, 1), date(2026, 6, 20), date(2026, 9, 10)])
def test_calendar_first_screen_is_the_next_three_months_with_the_legal_ones_cited(kb, searcher, storage, today):
    """Play-test: /lich was about 3,300 characters on Telegram and two pages on Zalo."""
    core = Core(kb, searcher, storage, today=lambda: today)
    first = core.command(User(1), "lich")
    year = core.press(User(1), first.buttons[0][0].data)
    assert first.buttons[0][0].label == "📅 Xem cả năm" and "Lịch ISO năm" in year.text
    assert len(first.text) < 1200 and len(first.text) < len(year.text) / 2
    shown = [ev for ev in kb.calendar if ev.title in first.text]
    assert 2 <= len(shown) <= yearly.SOON_MOST and all(ev.kind != "on-change" for ev in shown)
    for ev in shown:
        windows = [w for y in (today.year, today.year + 1) for w in yearly.occurrences(ev, y) if w[1] >= today]
        start, end = windows[0]
        assert (start - today).days <= yearly.SOON_DAYS
        assert f"{start.day}/{start.month}–{end.day}/{end.month}" in first.text
        if ev.kind == "legal":  # marked, with every article calendar.yaml cites for it
            assert f"⚖️ {ev.title}" in first.text
            assert all(str(s) in first.text for s in ev.sources if s.doc.kind == "law" and s.ref)
    assert all(ev.title in year.text and ev.note in year.text for ev in kb.calendar)


def test_calendar_in_december_shows_january_of_next_year(kb, searcher, storage):
    core = Core(kb, searcher, storage, today=lambda: date(2026, 12, 4))
    text = core.command(User(1), "lich").text
    assert "Ban hành mục tiêu chất lượng" in text and "Thứ Bảy, 2 tháng 1, 2027" in text
    assert text.index("Báo cáo về HTQLCL") < text.index("Rà soát danh mục TTHC"), "under way before starting"


def test_calendar_first_screen_is_one_zalo_message(kb, searcher, storage):
    from bot.textui import ZALO_LIMIT, TextUI

    core = Core(kb, searcher, storage, today=lambda: date(2026, 12, 4))
    ui = TextUI(core, "zalo", publish=lambda a: None)
    user = core.identify("zalo", "z1", "Lan")
    (out,) = ui.handle(user, "/lich")
    assert len(out.text) <= ZALO_LIMIT and "Xem tiếp" not in out.text and "1. 📅 Xem cả năm" in out.text
    (year,) = ui.handle(user, "1")
    assert "Lịch ISO năm 2026" in year.text


def test_calendar_states_no_unverified_legal_deadline(kb):
    for ev in kb.calendar:
        if ev.kind == "legal":  # a legal obligation must cite the article of a law that sets it
            assert any(s.doc.kind == "law" and s.ref for s in ev.sources), ev.id
    assert yearly.vi_days(1) == "1 ngày" and yearly.vi_days(45) == "45 ngày"
