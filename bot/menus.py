"""Numbers typed in a chat whose menus are buttons (Telegram).

Telegram shows a menu as inline buttons, without numbers; officials used to Zalo type "2" anyway.
The buttons of the last message the bot sent to a chat are kept in SQLite (the ``screens`` table
:class:`bot.textui.TextUI` keeps Zalo's screens in, under the channel's own name), so a bare number
typed next, even after a restart, picks the button at that place, counted in reading order: row by
row, left to right (a button with a ``key``, a clause of the standard, is that number, as on Zalo).
"0" opens the main menu, as on Zalo. A number that is on no button gets a
polite "that number is not on the menu" with the same buttons again, unless the bot waits for typed
text (a date, a unit name): then that number is the text, as before. Only 1–2 digit numbers count,
and only while the last message has buttons: "9001", "2015" or "2" typed below an answer without
buttons stay questions. A quiz poll as the last message has no buttons: a number typed then is the
quiz's own business (it asks for a tap on the poll).

A message shown beside a checklist or a quiz in progress (``Reply.aside``: an answer to a question
typed mid-checklist, a notice) does not take the numbers over, as on Zalo: the flow's buttons keep
1, 2, 3 (the "1" meant for «Đạt» is «Đạt») and the aside's buttons come after them; a quiz poll
stays the screen. The next aside replaces the last one's buttons.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import nav
from bot.actions import Context
from bot.reply import Button, Reply, User, numbered
from bot.textui import NUMBER


class ButtonMenus:
    """The last buttons shown in each chat, and the number typed after them."""

    def __init__(
        self, ctx: Context, press: Callable[[User, str], Reply], in_flow: Callable[[User], bool] = lambda user: False
    ):
        self.ctx = ctx
        self.press = press
        self.in_flow = in_flow  # a checklist or a quiz is in progress: an aside keeps the flow's numbers

    def remember(self, user: User, reply: Reply) -> None:
        """What ``reply`` leaves as the chat's last screen: its buttons, a poll (no buttons), or, when it
        shows nothing new (a toast only), the screen before it."""
        storage = self.ctx.storage
        if storage is None or not user.account:
            return
        if reply.poll is not None:
            screen: dict = {"poll": True}
        elif reply.aside and (reply.parts or reply.mode == "markup") and self.in_flow(user):
            screen = storage.load_screen(user.channel, user.account) or {}
            if screen.get("poll") or not screen.get("rows"):
                return  # the quiz's poll (or nothing to number) stays the screen; the aside is tapped
            screen = {"rows": screen["rows"], "aside": _rows(reply.buttons)}
        elif reply.buttons and (reply.parts or reply.attachment is not None or reply.mode == "markup"):
            screen = {"rows": _rows(reply.buttons)}
        elif reply.parts or reply.attachment is not None:
            screen = {}  # a message without buttons: "2" typed below it is a question again
        else:
            return
        storage.save_screen(user.channel, user.account, screen)

    def pick(self, user: User, text: str) -> Reply | None:
        """The reply to a bare number typed while the last screen has buttons; None for anything else."""
        storage = self.ctx.storage
        m = NUMBER.match(text or "")
        if storage is None or m is None or not user.account:
            return None
        screen = storage.load_screen(user.channel, user.account) or {}
        rows = [[Button(*b) for b in row] for row in screen.get("rows") or []]
        if not rows:
            return None
        aside = [[Button(*b) for b in row] for row in screen.get("aside") or []]
        n = int(m.group(1))
        buttons = [b for row in rows for b in row]
        if n == 0:
            return self._as_message(self.press(user, nav.HOME.data()))
        numbers = numbered(buttons)
        numbers += numbered([b for row in aside for b in row], first=len(numbers)) if aside else []
        picked = dict(numbers).get(str(n))
        pending = storage.get_prompt(user.id)
        if picked is None and pending and pending[0] not in self.ctx.passive_prompts:
            return None  # "15" typed when asked for a date: the prompt's own answer ("ngày 15 tháng mấy?")
        if picked is None:
            keyed = any(b.key for b in buttons)
            text = self.ctx.kb.text(
                "option_not_on_keyed_buttons" if keyed else "option_not_on_buttons", n=n, count=len(numbers)
            )
            return Reply(buttons=rows + aside, stale=True).add(text)
        return self._as_message(self.press(user, picked.data))

    @staticmethod
    def _as_message(reply: Reply) -> Reply:
        """A button's reply sent as a new message: nothing was pressed to edit or to show a toast on."""
        if reply.toast and (not reply.parts or reply.mode == "markup"):
            reply.parts.insert(0, ("", reply.toast + ("\n\n" if reply.parts else "")))
            reply.toast = None
        reply.mode = "send"
        return reply


def _rows(buttons: list[list[Button]]) -> list:
    """Buttons as they are kept in the ``screens`` table."""
    return [[[b.label, b.data, b.key] for b in row] for row in buttons]
