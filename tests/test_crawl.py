"""Press every button reachable from /start (breadth first, bounded) as an official and as an admin:
no exception, every reply says something, every button fits Telegram's 64-byte limit."""

from __future__ import annotations

from collections import deque

import pytest

from bot.actions import MAX_CALLBACK_BYTES
from bot.dialog import Core, User

LIMIT = 600


@pytest.mark.parametrize("user_id, admin", [(4001, False), (777, True)])
def test_every_reachable_button_answers(kb, searcher, storage, user_id, admin):
    core = Core(kb, searcher, storage, province="Lạng Sơn", admin_ids={777} if admin else set())
    user = User(user_id, "Lan")
    replies = [
        core.command(user, "start"),
        core.command(user, "help"),
        core.command(user, "chude"),
        core.command(user, "huongdan"),
        core.command(user, "bieumau"),
        core.command(user, "lich"),
        core.command(user, "tudanhgia"),
        core.command(user, "quiz"),
        core.command(user, "bangxephang"),
        core.command(user, "toi"),
        core.command(user, "hangngay"),
        core.command(user, "nhacviec"),
        core.command(user, "tiendo"),
        core.command(user, "quiznhom"),
        core.ask(user, "đánh giá nội bộ là gì"),
    ]
    queue = deque(b.data for r in replies for row in r.buttons for b in row)
    seen: set[str] = set()
    pressed = 0
    while queue and pressed < LIMIT:
        data = queue.popleft()
        if data in seen:
            continue
        seen.add(data)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES and core.registry.resolve(data) is not None, data
        reply = core.press(user, data)
        pressed += 1
        assert reply.text.strip() or reply.attachment is not None or reply.poll is not None or reply.toast, data
        for row in reply.buttons:
            for b in row:
                assert b.label.strip(), data
                queue.append(b.data)
    assert pressed >= 200, f"the crawl reached most screens ({pressed})"
