"""Actions, commands and prompts as features declare them: one registry, typed fields, strict ids."""

from __future__ import annotations

import pytest

from bot import nav
from bot.actions import Action, Feature, Id, Index, Registry, Slug, command
from bot.reply import User


def test_every_shared_screen_has_exactly_one_handler(core):
    for name in dir(nav):
        spec = getattr(nav, name)
        if isinstance(spec, Action):
            assert spec.code in core.registry.actions, f"nav.{name} ({spec.code}) has no handler"
    assert set(core.registry.advertised()) >= {
        "start",
        "chude",
        "huongdan",
        "tudanhgia",
        "quiz",
        "bieumau",
        "lich",
        "toi",
        "donvi",
        "huy",
        "help",
        "lienket",
        "dieukhoan",
    }


def test_two_handlers_for_one_code_are_refused(core):
    shared = Action("zz")

    class A(Feature):
        @shared
        def one(self, user):
            return None

    class B(Feature):
        @shared
        def two(self, user):
            return None

    with pytest.raises(ValueError, match="two handlers for action zz"):
        Registry([A(core.ctx), B(core.ctx)])


def test_buttons_are_built_from_typed_fields():
    spec = Action("xy", Id("run"), Index("item"), Slug("entry"))
    assert spec.data(12, 0, "dgnb-tan-suat") == "xy:12:0:dgnb-tan-suat"
    for bad in ((0, 0, "a1"), ("²", 0, "a1"), (1, -1, "a1"), (1, 0, "Không"), (10**19, 0, "a1")):
        with pytest.raises(ValueError):
            spec.data(*bad)
    assert spec.parse(["12", "3", "ab"]) == (12, 3, "ab")
    assert spec.parse(["²", "3", "ab"]) is None and spec.parse(["012", "3", "ab"]) is None


@pytest.mark.parametrize(
    "data",
    [
        "ca:²:0:d",
        "ca:99999999999999999999:0:d",
        "rp:99999999999999999999",
        "qa:1:²:0",
        "e:" + "x" * 60,
        "ca:1:0:z",
        "m:extra",
        ":",
        "",
        "tg:",
    ],
)
def test_forged_or_overflowing_buttons_are_stale_never_an_error(core, data):
    reply = core.press(User(4242, "Lan"), data)
    assert reply.stale and "không còn dùng được" in reply.text


@pytest.mark.parametrize("arg", ["²", "99999999999999999999", "-1", "1 OR 1=1", ""])
def test_odd_numbers_typed_after_a_command_get_a_polite_answer(core, arg):
    assert "Không có bài trắc nghiệm" in core.command(User(4242), "lambai", arg).text
    admin = User(777)
    core.ctx.roles.admin_keys = frozenset({"telegram:777"})
    assert "Dùng: /capquyen" in core.command(admin, "capquyen", arg).text


def test_a_command_declared_by_a_feature_is_found_with_its_aliases(core):
    class Hello(Feature):
        @command("chao", "xinchao", advertised=False)
        def hi(self, user, arg=""):
            from bot.reply import Reply

            return Reply().add(f"chào {arg}")

    registry = Registry([Hello(core.ctx)])
    assert set(registry.commands) == {"chao", "xinchao"} and registry.advertised() == []
