"""The welcome, the main menu, help, cancelling a prompt, and what to say to small talk."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot import nav
from bot.actions import Context, Feature, command
from bot.reply import Button, Reply, User

SMALLTALK = ("greeting", "thanks", "ack")


def main_menu(ctx: Context, user: User | None = None) -> list[list[Button]]:
    """The main menu; a user known to the database also gets «Đăng ký đơn vị» or «Hồ sơ của tôi»."""
    t = ctx.kb.text
    rows = [
        [nav.TOPICS.button(t("btn_topics")), nav.GUIDES.button(t("btn_guides"))],
        [nav.CHECKLISTS.button(t("btn_checklists")), nav.QUIZ.button(t("btn_quiz"))],
        [nav.FORMS.button(t("btn_forms")), nav.CALENDAR.button(t("btn_calendar"))],
        [nav.HELP.button(t("btn_help"))],
    ]
    if user is not None and ctx.storage:
        if ctx.storage.unit_of(user.id):
            rows.append([nav.MY_WORK.button(t("btn_my_work")), nav.PROFILE.button(t("btn_profile"))])
        else:
            rows.append([nav.REGISTER_UNIT.button(t("btn_unit"))])
        if ctx.roles and ctx.roles.role_of(user) != "official":  # the inspection team's own row
            rows.append([nav.PROGRESS.button(t("btn_progress")), nav.MEMBERS.button(t("btn_members"))])
    return rows


def home_row(ctx: Context) -> list[Button]:
    """The «🏠 Menu» row under most screens."""
    return [nav.HOME.button(ctx.kb.text("btn_home"))]


class Home(Feature):
    """/start, /menu, /help, /huy, unknown commands, stickers and small talk."""

    @command("start")
    def start(self, user: User, arg: str = "") -> Reply:
        """Welcome and the main menu; /start always gets the user out of a pending prompt. A checklist
        in progress comes first («▶️ Làm tiếp», number 1 where options are numbered): a restarted
        terminal chat, or /start typed mid-checklist, goes back to it in one step."""
        if self.ctx.storage:
            self.storage.clear_prompt(user.id)
        resume = self.resume_button(user) if self.ctx.storage and self.resume_button else None
        rows = [[resume], *main_menu(self.ctx, user)] if resume else main_menu(self.ctx, user)
        reply = Reply(buttons=rows).add(self.text("welcome", name=user.first_name or "anh/chị"))
        if self.ctx.storage and not self.storage.unit_of(user.id):
            reply.add("\n\n" + self.say(user, "unit_hint"), "i")
        return reply

    @nav.HOME
    def home(self, user: User) -> Reply:
        return self.start(user)

    @command("menu", advertised=False, shortcut="menu")
    def menu(self, user: User, arg: str = "") -> Reply:
        """The main menu without the welcome (typed "menu")."""
        return Reply(buttons=main_menu(self.ctx, user)).add(self.text("menu_intro"))

    resume_button: Callable[[User], Button | None] | None = None  # the Core's: «Làm tiếp» the checklist
    commands: list = []  # every Command, in feature order (set by the Core once it has them)
    stop_flow: Callable[[User], Reply | None] | None = (
        None  # the Core's: stops the quiz or pauses the checklist the user is in (a Reply), else None
    )

    @command("help", "trogiup", shortcut="help")
    def help(self, user: User, arg: str = "") -> Reply:
        """How to use the bot, and every command this user may use, grouped by role."""
        role = self.ctx.roles.role_of(user) if self.ctx.roles else "official"
        allowed = {"official": (None,), "inspector": (None, "inspector"), "admin": (None, "inspector", "admin")}[role]
        r = Reply(buttons=[[nav.TOPICS.button(self.text("btn_topics")), *home_row(self.ctx)]]).add(
            self.say(user, "help")
        )
        for needs, title in ((None, "help_commands"), ("inspector", "help_team"), ("admin", "help_admin")):
            lines = [
                f"/{c.names[0]} — {self.text('cmd_' + c.names[0])}"
                for c in self.commands
                if c.role == needs and needs in allowed and f"cmd_{c.names[0]}" in self.kb.ui
            ]
            if lines:
                r.add("\n\n" + self.text(title) + "\n", "b").add("\n".join(lines))
        return r

    @nav.HELP
    def help_pressed(self, user: User) -> Reply:
        return self.help(user)

    @command("huy", keeps_prompt=True)
    def cancel(self, user: User, arg: str = "") -> Reply:
        """/huy: drop whatever prompt is pending; else stop the quiz or pause the checklist in progress."""
        pending = self.storage.get_prompt(user.id) if self.ctx.storage else None
        if pending:
            self.storage.clear_prompt(user.id)
            if pending[0] not in self.ctx.passive_prompts:  # a late quiz letter, a clause number
                return Reply(buttons=main_menu(self.ctx, user)).add(self.text("cancelled"))
        stopped = self.stop_flow(user) if self.ctx.storage and self.stop_flow else None
        return stopped or Reply().add(self.text("nothing_to_cancel"))

    def unknown_command(self, user: User, name: str) -> Reply:
        return Reply(buttons=main_menu(self.ctx, user)).add(self.text("unknown_command", command=name[:40]))

    def non_text(self, user: User) -> Reply:
        return Reply(buttons=[[nav.TOPICS.button(self.text("btn_topics"))]]).add(self.text("non_text"))

    def stale(self, user: User | None = None) -> Reply:
        """The reply to a button or number that no longer means anything."""
        text = self.say(user, "stale_button") if user else self.text("stale_button")
        return Reply(buttons=main_menu(self.ctx, user), toast=text, alert=False, stale=True).add(text)

    def smalltalk(self, folded: str) -> str | None:
        """'xin chào', 'cảm ơn ad', 'ok'…: the ui.yaml key of a friendly reply, or None for a real question."""
        for key in SMALLTALK:
            if re.match(self.text(f"smalltalk_patterns_{key}"), folded):
                return f"smalltalk_{key}"
        return None

    def smalltalk_reply(self, user: User, key: str) -> Reply:
        return Reply(buttons=main_menu(self.ctx, user)).add(self.text(key))


def is_cancel(kb, folded: str) -> bool:
    """'hủy', 'thôi', 'bỏ qua' typed while a prompt waits: the same as /huy."""
    return bool(re.match(kb.text("cancel_patterns_prompt"), folded))
