"""/donvi: which commune, ward or agency a person works for, typed the way officials type it, with or
without a configured province; questions asked on the way are answered without ending it."""

from __future__ import annotations

import pytest

from bot import units
from bot.dialog import Core
from bot.reply import User
from bot.storage import Storage
from tests.telegram_offline import UpdateFactory


@pytest.fixture
def make_core(kb, searcher, config):
    """A Core on the test database; ``province=`` as config.yaml's (none by default, as the play-test)."""
    return lambda **options: Core(kb, searcher, Storage(config.database), admin_ids={777}, **options)


def agency(core: Core, user: User, name: str) -> str:
    """/donvi → «Cơ quan cấp tỉnh / khác» → the name typed; the reply's text."""
    core.command(user, "donvi")
    (data,) = [b.data for row in core.command(user, "donvi").buttons for b in row if b.data.startswith("ua")]
    core.press(user, data)
    return core.text(user, name).text


@pytest.mark.parametrize("typed", ["Sở Khoa học và Công nghệ tỉnh Lạng Sơn", "So KH&CN tinh Lang Son"])
def test_an_agency_is_filed_under_the_province_it_names(make_core, typed):
    """Telegram report §1: with no province configured, «Sở KH&CN tỉnh Lạng Sơn» landed in Hà Nội."""
    core = make_core()
    admin = core.identify("telegram", "777", "Minh")
    assert "(Lạng Sơn)" in agency(core, admin, typed)
    assert core.storage.unit_of(admin.id)["province_name"] == "Lạng Sơn"


def test_an_agency_named_twice_in_two_spellings_is_one_unit(make_core):
    core = make_core()
    first, second = core.identify("telegram", "777", "Minh"), core.identify("telegram", "5003", "Tuấn")
    agency(core, first, "Sở Khoa học và Công nghệ tỉnh Lạng Sơn")
    agency(core, second, "so kh&cn tinh lang son")
    assert core.storage.unit_of(first.id)["id"] == core.storage.unit_of(second.id)["id"]
    assert len(core.storage.agencies_in(units.find_province("Lạng Sơn").code)) == 1


def test_an_agency_without_a_province_asks_which_rather_than_guess(make_core):
    core = make_core()
    admin = core.identify("telegram", "777", "Minh")
    asked = agency(core, admin, "Văn phòng UBND tỉnh")
    assert "thuộc tỉnh, thành phố nào" in asked and core.storage.unit_of(admin.id) is None
    assert "chưa nhận ra tỉnh «abc»" in core.text(admin, "abc").text, "asks again, keeps the name"
    assert "Văn phòng UBND tỉnh (Lạng Sơn)" in core.text(admin, "lang son").text
    assert core.storage.unit_of(admin.id)["name"] == "Văn phòng UBND tỉnh"


def test_the_configured_province_still_files_an_agency_that_names_none(make_core):
    core = make_core(province="Lạng Sơn")
    admin = core.identify("telegram", "777", "Minh")
    assert "Sở Nội vụ (Lạng Sơn)" in agency(core, admin, "Sở Nội vụ")
    assert "Sở Y tế tỉnh Cao Bằng (Cao Bằng)" in agency(core, admin, "Sở Y tế tỉnh Cao Bằng")


def test_the_prompts_without_a_configured_province_have_no_placeholder(make_core):
    core = make_core()
    for channel, account in (("telegram", "5001"), ("zalo", "abc")):
        text = core.command(core.identify(channel, account, "Hoa"), "donvi").text
        assert "…" not in text and "thuộc tỉnh" not in text and "kèm tỉnh" in text
    assert "thuộc tỉnh Lạng Sơn" in make_core(province="Lạng Sơn").command(User(5001, "Hoa"), "donvi").text


def test_a_question_typed_at_the_unit_prompt_is_answered_and_registration_goes_on(make_core):
    """Telegram report §11: after «danh gia noi bo la gi», «xã đình lập» was read as a question."""
    core = make_core(province="Lạng Sơn")
    hoa = core.identify("telegram", "5001", "Hoa")
    core.command(hoa, "donvi")
    answer = core.text(hoa, "danh gia noi bo la gi")
    assert "Nguồn:" in answer.text and "vẫn đang chờ tên đơn vị" in answer.text
    assert any(b.data == "ux" for row in answer.buttons for b in row), "Huỷ is offered"
    labels = [b.label for row in core.text(hoa, "xã đình lập").buttons for b in row]
    assert "Xã Đình Lập (Lạng Sơn)" in labels


def test_a_question_typed_at_the_agency_prompt_is_no_agency(make_core):
    core = make_core(province="Lạng Sơn")
    admin = core.identify("telegram", "777", "Minh")
    reply = agency(core, admin, "đánh giá nội bộ bao lâu một lần")
    assert "Nguồn:" in reply and "vẫn đang chờ" in reply and core.storage.unit_of(admin.id) is None
    assert "Sở Tư pháp (Lạng Sơn)" in core.text(admin, "Sở Tư pháp").text


async def test_a_provincial_agency_reaches_the_inspectors_province_on_telegram(offline_app):
    """The report's steps through the real Application, with no province configured: the inspector
    registered at the Sở of Lạng Sơn sees Lạng Sơn in /tiendo, not Hà Nội."""
    app, api, core = await offline_app(admin_ids={777})
    make = UpdateFactory(app.bot, user_id=777)
    await app.process_update(make.text("/donvi"))
    assert "…" not in api.last_text()
    await app.process_update(make.press("ua", api.messages[max(api.messages)]))
    await app.process_update(make.text("So KH&CN tinh Lang Son"))
    assert "(Lạng Sơn)" in api.last_text()
    await app.process_update(make.text("/tiendo"))
    assert "Lạng Sơn" in api.last_text() and "Hà Nội" not in api.last_text()
