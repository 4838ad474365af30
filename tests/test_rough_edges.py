"""Rough edges of issue 15: commands easy to find by role, "/xyz" typed as text, an inspector's menu,
report dates in the configured time zone, answers whose first screen fits a small phone, and a curator's
duplicate YAML key named with file and line."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from bot import loader
from bot.answers import FIRST_SCREEN_CHARS, SLACK_CHARS, split_answer
from bot.reply import User
from bot.yamlcheck import KnowledgeError

ADMIN = 777
LAN = User(31, "Lan")
BOSS = User(ADMIN, "Thanh tra")


@pytest.fixture
def make_core(lang_son):
    return lambda: lang_son(today=lambda: date(2026, 12, 2))


def labels(reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def commands_listed(text: str) -> set[str]:
    return set(re.findall(r"^/(\w+) — ", text, re.M))


def test_help_lists_every_command_a_user_may_use_grouped_by_role(make_core, kb):
    core = make_core()
    official = core.command(LAN, "help")
    mine = commands_listed(official.text)
    assert {"chude", "huongdan", "bieumau", "lich", "tudanhgia", "quiz", "viec", "toi", "donvi"} <= mine
    assert "tiendo" not in mine and "nhacviec" not in mine and "capquyen" not in mine
    assert "Dành cho đoàn kiểm tra" not in official.text
    core.storage.touch_user(41, "Mai")
    core.storage.set_role(41, "inspector")
    inspector = core.command(User(41, "Mai"), "help")
    assert "Dành cho đoàn kiểm tra:" in inspector.text and "Dành cho quản trị" not in inspector.text
    assert {"tiendo", "nhacviec", "quiznhom", "thanhvien"} <= commands_listed(inspector.text)
    admin = core.command(BOSS, "help")
    assert "Dành cho quản trị:" in admin.text and {"capquyen", "thuquyen"} <= commands_listed(admin.text)
    for name in commands_listed(admin.text):  # every command listed really answers
        assert "Em không có lệnh" not in core.command(BOSS, name).text, name


def test_a_command_typed_as_text_is_a_command_and_an_unknown_one_says_so(make_core):
    core = make_core()
    unknown = core.text(LAN, "/xyz")
    assert "Em không có lệnh /xyz" in unknown.text and "Nguồn:" not in unknown.text
    assert "Lịch ISO" in core.text(LAN, "/lich").text or core.text(LAN, "/lich").buttons
    assert core.text(LAN, "/lich").text == core.command(LAN, "lich").text
    assert "Em không có lệnh" not in core.text(LAN, "/help@TroLyIsoBot").text
    assert "Nguồn:" in core.text(LAN, "danh gia noi bo / xem xet lanh dao bao lau 1 lan").text  # a slash inside


@pytest.mark.parametrize(
    "typed, command",
    [
        ("/bangkiem", "tudanhgia"),
        ("/tracnghiem", "quiz"),
        ("/xephang", "bangxephang"),
        ("/Lich_ISO", "lich"),
        ("/bangkiemtra", None),
    ],
)
def test_a_menu_name_typed_as_a_command_opens_it(make_core, typed, command):
    core = make_core()
    reply = core.text(LAN, typed)
    if command is None:  # not a menu name without its spaces: guidance, as for any unknown command
        assert "Em không có lệnh" in reply.text
    else:
        assert reply.text == core.command(LAN, command).text and "Em không có lệnh" not in reply.text


def test_a_menu_name_for_inspectors_typed_as_a_command_is_still_refused(make_core):
    core = make_core()
    assert core.text(LAN, "/tiendocacxa").text == core.command(LAN, "tiendo").text
    assert "Em không có lệnh" not in core.text(LAN, "/tiendocacxa").text


def test_inspectors_get_their_own_row_in_the_main_menu(make_core):
    core = make_core()
    assert "📈 Tiến độ các xã" not in labels(core.command(LAN, "start"))
    menu = core.command(BOSS, "start")
    assert "📈 Tiến độ các xã" in labels(menu) and "👥 Xác nhận thành viên" in labels(menu)
    data = {b.label: b.data for row in menu.buttons for b in row}
    progress = core.press(BOSS, data["📈 Tiến độ các xã"])
    assert progress.text == core.command(BOSS, "tiendo").text
    assert (
        "Chờ xác nhận thành viên" in core.press(BOSS, data["👥 Xác nhận thành viên"]).text
        or "Không có ai đang chờ" in core.press(BOSS, data["👥 Xác nhận thành viên"]).text
    )
    assert "📈" not in core.press(LAN, data["📈 Tiến độ các xã"]).text  # an official's forged press
    assert "Tiến độ" not in core.press(LAN, data["📈 Tiến độ các xã"]).text


def test_a_report_finished_before_seven_in_the_morning_is_dated_that_day(make_core, kb):
    from docx import Document

    core = make_core()
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.touch_user(LAN.id, "Lan")
    core.storage.set_user_unit(LAN.id, unit, confirmed=True)
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(LAN.id, unit, cl.id)
    for i in range(len(cl.items)):
        core.press(LAN, f"ca:{run['id']}:{i}:c")
    # finished at 06:30 in Hà Nội on 2/12 is 23:30 UTC on 1/12
    core.storage.db.execute("UPDATE runs SET finished = ? WHERE id = ?", ["2026-12-01T23:30:00+00:00", run["id"]])
    data, _ = core.checklists.report_bytes(core.storage.get_run(run["id"]), "Lan")
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "02/12/2026" in text and "2026-12-01" not in text and "01/12/2026" not in text


def test_split_answer_cuts_at_a_boundary_and_keeps_every_character():
    text = "Đoạn một nói về phạm vi. " * 12 + "\n\n" + "Đoạn hai nói về hồ sơ lưu. " * 20
    head, rest = split_answer(text)
    assert len(head) <= FIRST_SCREEN_CHARS and rest
    assert head.endswith(".") and not rest.startswith(" ")
    assert re.sub(r"\s+", "", head + rest) == re.sub(r"\s+", "", text)
    short_text = "x" * (FIRST_SCREEN_CHARS + SLACK_CHARS)
    assert split_answer(short_text) == (short_text, "")
    no_space = "y" * 1000
    assert split_answer(no_space)[0] + split_answer(no_space)[1] == no_space


def test_every_answer_first_screen_fits_a_small_phone_and_xem_them_shows_the_rest(make_core, kb):
    core = make_core()
    longest, more = 0, 0
    for entry in kb.entries.values():
        reply = core.answers.render(LAN, entry)
        longest = max(longest, len(reply.text))
        assert len(labels(reply)) <= 8, entry.id
        if "📖 Xem thêm" in labels(reply):
            more += 1
            data = next(b.data for row in reply.buttons for b in row if b.label == "📖 Xem thêm")
            rest = core.press(LAN, data)
            shown = reply.text + rest.text
            for sentence in re.split(r"(?<=[.;:])\s+", entry.answer.strip())[-2:]:
                assert sentence.strip()[:40] in shown, entry.id
            assert "(tiếp)" in rest.text
    assert longest <= 900, longest
    assert more > 0
    assert core.press(LAN, "em:khong-co-muc-nay").stale


def test_a_duplicate_key_names_the_file_and_both_lines(tmp_path):
    import shutil

    from tests.conftest import KNOWLEDGE

    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    ui = copy / "ui.yaml"
    lines = ui.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  help_commands:"))
    lines.insert(first + 1, '  help_commands: "Lệnh:"')
    ui.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        loader.load(copy)
    message = str(err.value)
    assert "ui.yaml" in message and f":{first + 2}" in message and "help_commands" in message
    assert f"dòng {first + 1}" in message
