"""Unit membership: pending until a join code or an inspector confirms it; only confirmed runs count."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bot import units
from bot.dialog import Core
from bot.members import join_code
from bot.reply import User
from bot.storage import Storage
from bot.textui import TextUI

ADMIN = 777
LOC_BINH = "Xã Lộc Bình (Lạng Sơn)"


@pytest.fixture
def make_core(kb, searcher, config):
    return lambda: Core(kb, searcher, Storage(config.database), province="Lạng Sơn", admin_ids={ADMIN})


def register(core, user: User) -> str:
    """/donvi → "xa loc binh" → the button of Xã Lộc Bình; the reply's text."""
    core.command(user, "donvi")
    choose = core.text(user, "xa loc binh")
    (data,) = [b.data for row in choose.buttons for b in row if b.label == LOC_BINH]
    return core.press(user, data).text


def finish_checklist(core, kb, user: User) -> None:
    cl = kb.checklists["san-sang-dgnb"]
    unit = core.storage.unit_of(user.id)
    run = core.storage.start_run(user.id, unit["id"], cl.id)
    for i in range(len(cl.items)):
        core.press(user, f"ca:{run['id']}:{i}:d")


def ward_code(core) -> str:
    return join_code(core.storage, f"ward:{core.storage.unit_of(31)['ward_code']}")


def test_a_registered_official_is_pending_and_their_run_is_not_the_units_score(make_core, kb):
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    text = register(core, official)
    assert "Đã ghi nhận: anh/chị thuộc Xã Lộc Bình" in text and "gõ mã tham gia của đơn vị (8 chữ số" in text
    assert core.storage.membership(31) == "pending"
    profile = core.command(official, "toi")
    assert "chờ Sở KH&CN xác nhận" in profile.text
    assert any(b.label == "🔑 Nhập mã tham gia" for row in profile.buttons for b in row)
    finish_checklist(core, kb, official)
    (run,) = [r for r in core.storage.db.query("SELECT id FROM runs WHERE user_id = 31")]
    assert "chưa được tính vào điểm của đơn vị" in core.press(official, f"cr:{run['id']}").text
    progress = core.press(User(ADMIN), "pg:not-started").text
    assert "Xã Lộc Bình: 0 người (+1 chờ xác nhận), chưa tự đánh giá" in progress
    assert "1 lượt chưa xác nhận, không tính điểm" in progress
    ws = load_workbook(io.BytesIO(core.press(User(ADMIN), "px:all").attachment.data)).active
    header = [c.value for c in ws[1]]
    (row,) = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "Xã Lộc Bình"]
    assert row[header.index("Điểm thấp nhất (lần gần nhất)")] is None and row[header.index("Lượt chưa xác nhận")] == 1


def test_the_join_code_confirms_and_earlier_runs_then_count(make_core, kb):
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    register(core, official)
    finish_checklist(core, kb, official)
    right = ward_code(core)
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    assert "Mã chưa đúng" in core.text(official, wrong).text
    assert "gồm 8 chữ số" in core.text(official, "1234").text
    reply = core.text(official, f"{right[:4]} {right[4:]}")
    assert "Đã xác nhận anh/chị là thành viên của Xã Lộc Bình" in reply.text
    assert core.storage.membership(31) == "confirmed" and core.storage.get_prompt(31) is None
    progress = core.press(User(ADMIN), "pd:6529").text
    assert "1 đã xác nhận, 0 chờ xác nhận" in progress and "Sẵn sàng đánh giá nội bộ: 100 (" in progress
    assert "chưa xác nhận)" not in progress


def test_wrong_codes_are_limited_even_before_the_right_one(make_core):
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    register(core, official)
    right = ward_code(core)
    for n in range(5):
        assert "Mã chưa đúng" in core.text(official, f"{(int(right) + 1 + n) % 10**8:08d}").text
    assert "nhập sai mã nhiều lần" in core.text(official, right).text
    assert core.storage.membership(31) == "pending"


def test_the_code_prompt_ends_with_what_to_type_and_keeps_waiting_for_it(make_core):
    """Play-test: the prompt read as a question, so officials answered it ("dạ vâng") instead of typing
    the code, and that answer ended the wait: the code typed next was searched as a question."""
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    prompt = register(core, official)
    last = prompt.strip().splitlines()[-1]
    assert last == "🔑 Anh/chị gõ mã tham gia của đơn vị (8 chữ số, ví dụ 1234 5678)." and "?" not in prompt
    for typed in ("dạ vâng", "mã ở đâu ạ", "chưa có mã"):
        reply = core.text(official, typed)
        assert reply.text.startswith("Em chưa thấy mã tham gia trong tin này.") and "8 chữ số" in reply.text
        assert [b.data for row in reply.buttons for b in row] == ["jl"] and core.storage.get_prompt(31) is not None
    right = ward_code(core)
    assert "Đã xác nhận anh/chị là thành viên" in core.text(official, right).text


def test_a_menu_name_or_a_checklist_word_at_the_code_prompt_is_read_as_usual(make_core, kb):
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    register(core, official)
    assert "Em chưa thấy mã" not in core.text(official, "tự đánh giá").text
    assert core.storage.get_prompt(31) is None
    core.press(official, "je")
    cl = kb.checklists["san-sang-dgnb"]
    core.storage.start_run(31, core.storage.unit_of(31)["id"], cl.id)
    reply = core.text(official, "đạt")
    assert "Em chưa thấy mã" not in reply.text and "câu 1" in reply.text.lower()


def test_code_prompt_lets_commands_questions_and_checklist_words_through(make_core):
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    register(core, official)
    reply = core.text(official, "danh gia noi bo bao lau 1 lan")
    assert "Nguồn:" in reply.text and core.storage.get_prompt(31) is None
    core.press(official, "je")  # "Nhập mã tham gia" from /toi
    assert core.storage.get_prompt(31) is not None
    core.command(official, "bieumau")  # another command closes the prompt
    assert core.storage.get_prompt(31) is None
    core.press(official, "je")
    assert "Chờ Sở" not in core.press(official, "jl").text and core.storage.get_prompt(31) is None


def test_inspector_confirms_and_rejects_pending_members_and_they_are_told(make_core, kb):
    core = make_core()
    for uid, name in ((31, "Lan"), (32, "Hùng")):
        core.storage.touch_user(uid, name)
        register(core, User(uid, name))
    finish_checklist(core, kb, User(32, "Hùng"))
    boss = User(ADMIN, "Thanh tra")
    screen = core.command(boss, "thanhvien")
    assert (
        "Chờ xác nhận thành viên (2)" in screen.text
        and "• Lan · Telegram · Xã Lộc Bình" in screen.text
        and "• Hùng" in screen.text
    )
    labels = {b.label: b.data for row in screen.buttons for b in row}
    assert "denied" not in core.press(User(31), labels["✅ Lan – Xã Lộc Bình"]).text
    assert core.storage.membership(31) == "pending"  # an official's press was refused
    confirmed = core.press(boss, labels["✅ Lan – Xã Lộc Bình"])
    assert "Đã xác nhận Lan là thành viên của Xã Lộc Bình" in confirmed.text and confirmed.mode == "edit"
    assert "Chờ xác nhận thành viên (1)" in confirmed.text
    assert core.press(boss, labels["✅ Lan – Xã Lộc Bình"]).stale  # already decided
    rejected = core.press(boss, labels["❌ Hùng: không phải"])
    assert "Đã gỡ Hùng khỏi Xã Lộc Bình" in rejected.text and "Không có ai đang chờ" in rejected.text
    assert core.storage.membership(31) == "confirmed" and core.storage.unit_of(32) is None
    told = {b["text"]: b for b in core.storage.unfinished_broadcasts()}
    assert any("đã xác nhận anh/chị là thành viên của Xã Lộc Bình" in t for t in told)
    assert any("chưa xác nhận anh/chị là thành viên của Xã Lộc Bình" in t for t in told)
    progress = core.press(boss, "pg:not-started").text
    assert (
        "Xã Lộc Bình: 1 người, chưa tự đánh giá" in progress and "1 lượt chưa xác nhận" in progress
    )  # Hùng's stays out


def test_forged_member_buttons_are_stale(make_core):
    core = make_core()
    boss = User(ADMIN)
    for data in ("mc:²:1:0", "mc:99999999999999999999:1:0", "mc:5:5:0", "mr:31:1:0", "mk:0"):
        assert core.press(boss, data).stale, data


def test_inspectors_and_admins_are_trusted_when_they_register(make_core):
    core = make_core()
    core.storage.touch_user(ADMIN, "Thanh tra")
    text = register(core, User(ADMIN, "Thanh tra"))
    assert "Kết quả tự đánh giá từ nay được ghi cho đơn vị này" in text and "mã tham gia" not in text
    assert core.storage.membership(ADMIN) == "confirmed"


def test_codes_for_every_ward_of_the_province_and_one_replaced(make_core):
    core = make_core()
    boss = User(ADMIN)
    reply = core.command(boss, "maxa")
    ws = load_workbook(io.BytesIO(reply.attachment.data)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    province = core.ctx.province.code
    assert len(rows) == sum(1 for p in units.wards().values() if p.province_code == province) > 50
    codes = {r[0]: r[3] for r in rows}
    loc_binh = next(p for p in units.match_wards("xa loc binh", province, limit=1))
    assert codes[loc_binh.code].replace(" ", "") == join_code(core.storage, f"ward:{loc_binh.code}")
    assert len(set(codes.values())) == len(codes)  # no two communes share a code
    one = core.command(boss, "maxa", "loc binh")
    old = join_code(core.storage, f"ward:{loc_binh.code}")
    assert f"{old[:4]} {old[4:]}" in one.text
    (rotate,) = [b.data for row in one.buttons for b in row if "Đổi mã Xã Lộc Bình" in b.label]
    ask = core.press(boss, rotate)
    assert join_code(core.storage, f"ward:{loc_binh.code}") == old, "asked first, nothing changed"
    (yes,) = [b.data for row in ask.buttons for b in row if b.data.startswith("mn:")]
    assert "Mã cũ không dùng được nữa" in core.press(boss, yes).text
    new = join_code(core.storage, f"ward:{loc_binh.code}")
    assert new != old
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    register(core, official)
    assert "Mã chưa đúng" in core.text(official, old).text
    assert "Đã xác nhận" in core.text(official, new).text
    assert "chỉ dành cho" in core.command(official, "maxa").text


def rotate_labels(reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row if b.data.startswith("mk:")]


def test_code_change_labels_name_the_province_in_a_stable_order(kb, searcher, config):
    """Zalo §4, with no province configured: two «Đổi mã Xã Lộc Ninh», and 3 became Lộc Bình."""
    core = Core(kb, searcher, Storage(config.database), admin_ids={ADMIN})
    first = rotate_labels(core.command(User(ADMIN), "maxa", "Lộc Bình"))
    second = rotate_labels(core.command(User(ADMIN), "maxa", "loc ninh"))
    assert len(set(first)) == len(first) and "🔄 Đổi mã Xã Lộc Ninh (Đồng Nai)" in first
    both = [label for label in first if label in second]
    assert len(both) == 3 and both == [label for label in second if label in first], "the same order"


def test_a_code_change_asks_first_warns_outside_the_province_and_happens_once(make_core):
    core = make_core()
    boss = User(ADMIN)
    reply = core.command(boss, "maxa", "loc ninh")
    assert rotate_labels(reply)[0] == "🔄 Đổi mã Xã Lộc Bình (Lạng Sơn)", "the inspector's province first"
    dong_nai = next(b.data for row in reply.buttons for b in row if b.label.endswith("Lộc Ninh (Đồng Nai)"))
    ward = int(dong_nai.split(":")[1])
    old = join_code(core.storage, f"ward:{ward}")
    ask = core.press(boss, dong_nai)
    assert "Đổi mã tham gia của Xã Lộc Ninh (Đồng Nai)?" in ask.text and f"{old[:4]} {old[4:]}" in ask.text
    assert "thuộc Đồng Nai, không phải tỉnh của anh/chị" in ask.text
    assert join_code(core.storage, f"ward:{ward}") == old, "nothing changed yet"
    (yes,) = [b.data for row in ask.buttons for b in row if b.data.startswith("mn:")]
    core.press(boss, yes)
    new = join_code(core.storage, f"ward:{ward}")
    assert new != old
    assert "đã được đổi rồi" in core.press(boss, yes).text, "pressed twice: changed once"
    assert join_code(core.storage, f"ward:{ward}") == new


def test_membership_follows_the_person_when_accounts_are_linked(make_core):
    core = make_core()
    zalo = core.identify("zalo", "abc", "Lan")
    register(core, zalo)
    core.text(zalo, join_code(core.storage, f"ward:{core.storage.unit_of(zalo.id)['ward_code']}"))
    telegram = core.identify("telegram", "4242", "Lan")
    core.storage.merge_people(zalo.id, telegram.id)
    assert core.storage.membership(telegram.id) == "confirmed"


def test_a_command_closes_the_unit_name_prompt(make_core):
    """/donvi waits for a commune name; /toi or /bieumau means the user moved on, so what they type
    next is read as a question, not as a commune name."""
    core = make_core()
    official = User(31, "Lan")
    core.storage.touch_user(31, "Lan")
    for other in ("toi", "bieumau"):
        core.command(official, "donvi")
        assert core.storage.get_prompt(31) is not None
        core.command(official, other)
        assert core.storage.get_prompt(31) is None
        assert "Nguồn:" in core.text(official, "danh gia noi bo bao lau 1 lan").text
    core.command(official, "donvi")
    assert "Đã huỷ thao tác" in core.command(official, "huy").text


def test_unit_names_of_the_configured_province_hide_look_alikes_elsewhere(make_core):
    """ "xa loc binh" in Lạng Sơn is Xã Lộc Bình, not Lộc Ninh (Đồng Nai); a name only found elsewhere
    still offers the other provinces."""
    core = make_core()
    core.command(User(31), "donvi")
    labels = [b.label for row in core.text(User(31), "xa loc binh").buttons for b in row]
    assert labels[0] == LOC_BINH and not any("Đồng Nai" in x or "Tây Ninh" in x for x in labels)
    core.command(User(31), "donvi")
    labels = [b.label for row in core.text(User(31), "xa loc ninh").buttons for b in row]
    assert any("Lộc Ninh (Đồng Nai)" in x for x in labels)


def _telegram_order(reply) -> list[str]:
    """The buttons' labels in reading order, as a number typed on Telegram counts them."""
    return [b.label for row in reply.buttons for b in row]


def _zalo_options(ui, user: User) -> dict[str, str]:
    """Label → the number shown for it on Zalo, from /toi rendered as numbered options."""
    (out,) = ui.handle(user, "/toi")
    return {line.split(". ", 1)[1]: line.split(". ", 1)[0] for line in out.text.splitlines() if line[:1].isdigit()}


def test_profile_options_keep_their_numbers_whether_pending_or_confirmed(make_core):
    core = make_core()
    ui = TextUI(core, "zalo", publish=lambda a: None)
    pending, confirmed = core.identify("zalo", "z41", "Lan"), core.identify("zalo", "z42", "Hà")
    for u in (pending, confirmed):
        register(core, u)
    core.storage.confirm_member(confirmed.id, ADMIN)
    assert core.storage.membership(pending.id) == "pending" and core.storage.membership(confirmed.id) == "confirmed"
    mine, theirs = _zalo_options(ui, pending), _zalo_options(ui, confirmed)
    assert "🔑 Nhập mã tham gia" in mine and "🔑 Nhập mã tham gia" not in theirs
    assert {label: mine[label] for label in theirs} == theirs, "the same label has the same number on Zalo"
    on_tg_mine, on_tg_theirs = (
        _telegram_order(core.command(pending, "toi")),
        _telegram_order(core.command(confirmed, "toi")),
    )
    assert on_tg_mine[: len(on_tg_theirs)] == on_tg_theirs, "and the same place among Telegram's buttons"
