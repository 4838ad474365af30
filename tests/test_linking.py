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
