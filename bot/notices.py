"""What a broadcast from the inspection team looks like to the people who get it.

Reminders and team quizzes go out signed with who sent them ("— Thanh tra, Sở KH&CN Lạng Sơn"),
with a button to what they are about (the calendar, the checklist to finish, the quiz to take) and
«✅ Đã nhận». Pressing it records the acknowledgement, so the sender's report counts who has read the
message, not only whose phone accepted it. On Zalo the buttons are numbered options like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.actions import Action, Feature, Id
from bot.answers import split_answer
from bot.reply import Button, Reply, User

if TYPE_CHECKING:
    from bot.knowledge import KnowledgeBase
    from bot.storage import Storage

ACK = Action("ra", Id("broadcast"), name="broadcast.ack")
READ = Action("rf", Id("broadcast"), name="broadcast.read")
PREVIEW_CHARS = 300  # the start of a long notice shown mid-checklist on Zalo (cut at a paragraph or sentence)


def signature(kb: KnowledgeBase, storage: Storage, sender_id: int) -> str:
    """'— Thanh tra, Sở KH&CN Lạng Sơn': the sender's name and registered unit, else the team's name."""
    person = storage.get_user(sender_id) or {}
    unit = storage.unit_of(sender_id)
    unit_name = unit["name"] if unit else kb.text("bc_team")
    name = person.get("first_name") or ""
    return kb.text("bc_signed", name=name, unit=unit_name) if name else kb.text("bc_signed_unit", unit=unit_name)


class Notices(Feature):
    """The message each recipient gets, and «Đã nhận». A notice is an aside (:attr:`Reply.aside`): it
    arrives in the middle of whatever the person is doing, so it must not take that flow's numbers, and
    «Đã nhận» offers the way back to it (``resume``: the checklist's «Làm tiếp»)."""

    def __init__(self, ctx, resume: Callable[[User, Reply], None] | None = None):
        super().__init__(ctx)
        self.resume = resume

    def message(self, broadcast_id: int) -> Reply:
        """The broadcast as a reply: its text, «Đã nhận» and its links. A notice nobody sent (a member told
        they were confirmed) has no sender to acknowledge to, so no «Đã nhận»."""
        b = self.storage.get_broadcast(broadcast_id)
        if b is None:
            raise ValueError(f"no broadcast {broadcast_id}")
        rows = [[ACK.button(self.text("bc_btn_ack"), broadcast_id)]] if b["created_by"] else []
        reply = Reply(buttons=rows + self._links(broadcast_id), aside=True).add(b["text"])
        body, sign = b["text"].rstrip(), ""
        if b["created_by"] and "\n\n" in body:  # signed: "— Minh, Thanh tra" is the last paragraph, kept
            body, _, sign = body.rpartition("\n\n")
        head, rest = split_answer(body, PREVIEW_CHARS)
        if rest:
            reply.brief = head + " …" + ("\n\n" + sign if sign else "")
            reply.more = READ.button(self.text("bc_btn_read_all"), broadcast_id)
        return reply

    @READ
    def read(self, user: User, broadcast_id: int) -> Reply | None:
        """«Đọc toàn bộ thông báo»: the whole notice, which a channel showed shortened mid-checklist, with
        its «Đã nhận» and links, and «Làm tiếp» back to the checklist."""
        if not self.storage.is_recipient(broadcast_id, user.id):
            return None
        reply = self.message(broadcast_id)
        reply.brief, reply.more = "", None
        if self.resume is not None:
            self.resume(user, reply)
        return reply

    def _links(self, broadcast_id: int) -> list[list[Button]]:
        return [[Button(label, data)] for label, data in self.storage.broadcast_links(broadcast_id)]

    @ACK
    def acknowledge(self, user: User, broadcast_id: int) -> Reply | None:
        """Record «Đã nhận» (once) and leave the message with its links only."""
        first = self.storage.ack_delivery(broadcast_id, user.id)
        if first is None:
            return None
        reply = Reply(mode="markup", buttons=self._links(broadcast_id), aside=True)
        if self.resume is not None:
            self.resume(user, reply)
        reply.toast = self.text("bc_acked" if first else "bc_acked_again")
        return reply
