"""Press every button reachable from /start (breadth first, bounded) as an official and as an admin:
no exception, every reply says something, every button fits Telegram's 64-byte limit."""

from __future__ import annotations

from collections import deque

import pytest

from bot.dialog import Core, User
from bot.reply import MAX_CALLBACK_BYTES, parse_callback

LIMIT = 600


@pytest.mark.parametrize("user_id, admin", [(4001, False), (777, True)])
def test_every_reachable_button_answers(kb, searcher, storage, user_id, admin):
    core = Core(kb, searcher, storage, province="Lạng Sơn", admin_ids={777} if admin else set())
    user = User(user_id, "Lan")
    replies = [core.start(user), core.help(user), core.topics(user), core.guide_home(user), core.forms_list(user),
               core.calendar(user), core.checklist_home(user), core.quiz_home(user), core.leaderboard(user),
               core.profile(user), core.daily_menu(user), core.reminders_home(user), core.progress(user),
               core.team_quiz_home(user), core.ask(user, "đánh giá nội bộ là gì")]
    queue = deque(b.data for r in replies for row in r.buttons for b in row)
    seen: set[str] = set()
    pressed = 0
    while queue and pressed < LIMIT:
        data = queue.popleft()
        if data in seen:
            continue
        seen.add(data)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES and parse_callback(data) is not None, data
        reply = core.press(user, data)
        pressed += 1
        assert reply.text.strip() or reply.attachment is not None or reply.poll is not None or reply.toast, data
        for row in reply.buttons:
            for b in row:
                assert b.label.strip(), data
                queue.append(b.data)
    assert pressed >= 200, f"the crawl reached most screens ({pressed})"
