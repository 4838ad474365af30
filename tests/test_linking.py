"""One person, two accounts: /lienket links a Telegram and a Zalo account, so unit, progress and role
follow the person; messages the bot starts go to the account used last."""

from __future__ import annotations

import re

from bot.dialog import Core
from bot.storage import Storage


def code_of(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_linking_merges_progress_unit_and_role(kb, searcher, config):
    core = Core(kb, searcher, Storage(config.database), admin_ids={"telegram:4242"})
    tg = core.identify("telegram", "4242", "Lan")
    zl = core.identify("zalo", "5dc57f856315ad7309b4", "Lan (Zalo)")
    assert tg.id != zl.id
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.set_user_unit(tg.id, unit)
    core.storage.save_guide_step(zl.id, "danh-gia-noi-bo", 3)  # done on Zalo before linking
    assert core.ctx.roles.role_of(zl) == "official"
    code = code_of(core.command(tg, "lienket").text)
    assert "Đã liên kết" in core.command(zl, "lienket", code).text
    zl = core.identify("zalo", "5dc57f856315ad7309b4", "Lan (Zalo)")
    assert zl.id == tg.id, "one person"
    assert core.storage.unit_of(zl.id)["name"] == "Xã Lộc Bình"
    assert core.storage.guide_progress(tg.id)["danh-gia-noi-bo"]["step"] == 3
    assert core.ctx.roles.role_of(zl) == "admin", "the role follows the person to Zalo"
    assert core.storage.contact(tg.id) == ("zalo", "5dc57f856315ad7309b4"), "the account used last"
    assert "Tài khoản đã liên kết: " in core.command(zl, "toi").text
    assert "không đúng" in core.command(zl, "lienket", code).text, "a code works once"


def test_wrong_codes_are_limited_and_a_code_cannot_link_its_own_account(core):
    a = core.identify("zalo", "aaaa", "A")
    b = core.identify("telegram", "5151", "B")
    code = code_of(core.command(a, "lienket").text)
    assert "chính tài khoản" in core.command(a, "lienket", code).text
    for _ in range(5):
        assert "không đúng" in core.command(b, "lienket", "000000" if code != "000000" else "111111").text
    assert "sai mã nhiều lần" in core.command(b, "lienket", code).text, "after 5 wrong codes, even a right one waits"
    assert (
        "không đúng" in core.command(b, "lienket", "12ab").text or "sai mã" in core.command(b, "lienket", "12ab").text
    )


def test_a_code_typed_on_the_channel_it_was_made_on_is_refused(kb, searcher, config):
    """Telegram report §2: a second Telegram account typing an admin's code inherited unit, membership
    and role. Only a Zalo and a Telegram account are joined; the code stays usable on the other channel."""
    core = Core(kb, searcher, Storage(config.database), admin_ids={"telegram:777"})
    admin = core.identify("telegram", "777", "Minh")
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.set_user_unit(admin.id, unit, confirmed=True)
    code = code_of(core.command(admin, "lienket").text)
    stranger = core.identify("telegram", "5007", "Tuấn")
    reply = core.command(stranger, "lienket", code).text
    assert "không liên kết hai tài khoản Telegram" in reply
    stranger = core.identify("telegram", "5007", "Tuấn")
    assert stranger.id != admin.id
    assert core.ctx.roles.role_of(stranger) == "official"
    assert core.storage.unit_of(stranger.id) is None and core.storage.membership(stranger.id) != "confirmed"
    zalo = core.identify("zalo", "5dc57f856315ad7309b4", "Minh")
    assert "Đã liên kết" in core.command(zalo, "lienket", code).text, "the refusal did not use the code up"


def test_a_linked_person_cannot_chain_a_third_account(core):
    """Once one Zalo and one Telegram account are linked, no third account joins them, whichever side
    made the code, and the person is told rather than given a code that cannot work."""
    tg = core.identify("telegram", "4242", "Lan")
    zl = core.identify("zalo", "aaaa", "Lan")
    assert "Đã liên kết" in core.command(zl, "lienket", code_of(core.command(tg, "lienket").text)).text
    tg = core.identify("telegram", "4242", "Lan")
    assert "đã liên kết đủ" in core.command(tg, "lienket").text
    other_tg, other_zl = core.identify("telegram", "5151", "B"), core.identify("zalo", "bbbb", "C")
    zl = core.identify("zalo", "aaaa", "Lan")
    for newcomer, linked in ((other_tg, zl), (other_zl, tg)):  # their code typed on the linked person's other side
        code = code_of(core.command(newcomer, "lienket").text)
        assert "đã liên kết với một tài khoản khác" in core.command(linked, "lienket", code).text
    core.storage.create_link_code(tg.id, "123456", 15)  # a code made before the person was linked
    assert "đã có tài khoản Telegram liên kết" in core.command(other_tg, "lienket", "123456").text
    assert "đã có tài khoản Zalo liên kết" in core.command(other_zl, "lienket", "123456").text
    assert {a["account"] for a in core.storage.accounts_of(tg.id)} == {"4242", "aaaa"}


def test_the_code_names_the_other_channel_and_warns_not_to_share_it(core):
    tg = core.identify("telegram", "4242", "Lan")
    text = core.command(tg, "lienket").text
    assert "tài khoản Zalo của chính anh/chị" in text and "Không gửi mã này cho người khác" in text


def test_accounts_joined_on_one_channel_before_are_split_at_start(config):
    """A database where /lienket had joined two Telegram accounts: the second one is its own person
    again, with no unit and no role; the first keeps everything."""
    storage = Storage(config.database)
    admin = storage.touch_account("telegram", "777", "Minh")
    unit = storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    storage.set_user_unit(admin, unit, confirmed=True)
    storage.set_role(admin, "inspector")
    storage.merge_people(storage.touch_account("telegram", "5007", "Tuấn"), admin)
    storage.close()
    storage = Storage(config.database)
    stranger = storage.person_of("telegram", "5007")
    assert stranger != admin and storage.person_of("telegram", "777") == admin
    assert (storage.get_user(stranger) or {}).get("role") in (None, "", "official")
    assert storage.unit_of(stranger) is None and storage.unit_of(admin)["name"] == "Xã Lộc Bình"
    assert [a["account"] for a in storage.accounts_of(admin)] == ["777"]
