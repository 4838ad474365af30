"""Type every option number of every reachable Zalo screen (breadth first, bounded), as an official and
as an admin: every reply fits one Zalo message, its options are numbered 1..N (the clause menu: 4–10
by clause, then 1..N), none says "bấm «…»" (there are no buttons to press), nothing raises."""

from __future__ import annotations

import re
from collections import deque

import pytest

from bot.dialog import Core
from bot.files import FileLinks
from bot.storage import Storage
from bot.textui import ZALO_LIMIT, TextUI

LIMIT = 1500
OPTION = re.compile(r"^(\d{1,3})\. .+$", re.M)
# "bấm «Lưu»", "bấm nút bên dưới": Zalo has no buttons ("gõ số", "chọn"). Answers may still tell of
# citizens who "bấm “không hài lòng”" on the rating screen at the counter.
PRESS = re.compile(r"(?<!\w)bấm (?:vào |một )?(?:«|nút)", re.IGNORECASE)
STARTS = (
    "/start",
    "/help",
    "/chude",
    "/huongdan",
    "/bieumau",
    "/lich",
    "/tudanhgia",
    "/quiz",
    "/bangxephang",
    "/toi",
    "/hangngay",
    "/nhacviec",
    "/tiendo",
    "/quiznhom",
    "/donvi",
    "đánh giá nội bộ là gì",
)


CLAUSES = list(range(4, 11))  # /dieukhoan numbers each clause of the standard by its own number
LONGEST = [0]  # the longest message sent, printed by the crawl for the note


def check(outs, where: str) -> None:
    assert outs, where
    for out in outs:
        assert out.text.strip() and len(out.text) <= ZALO_LIMIT, (where, len(out.text))
        LONGEST[0] = max(LONGEST[0], len(out.text))
        assert not PRESS.search(out.text), (where, out.text)
        numbers = [int(n) for n in OPTION.findall(out.text)]
        if numbers != list(range(1, len(numbers) + 1)):  # the clause menu: clauses 4–10 by number, then 1, 2…
            rest = [n for n in numbers if n not in CLAUSES]
            assert CLAUSES == [n for n in numbers if n in CLAUSES], (where, numbers)
            assert rest == list(range(1, len(rest) + 1)), (where, numbers)
        if numbers:
            assert "Gõ số để chọn; 0 = menu." in out.text, where


@pytest.mark.parametrize("account, admin", [("c0ffee01", False), ("adm1n", True)])
def test_every_reachable_zalo_screen_fits_and_is_numbered(kb, searcher, config, account, admin):
    core = Core(
        kb, searcher, Storage(config.database), province="Lạng Sơn", admin_ids={f"zalo:{account}"} if admin else set()
    )
    ui = TextUI(core, "zalo", publish=FileLinks(core.storage, "http://127.0.0.1:9").publish)
    user = core.identify("zalo", account, "Lan")
    queue: deque = deque()
    for start in STARTS:
        check(ui.handle(user, start), start)
        queue.append((core.storage.load_screen("zalo", account), start))
    seen: set[str] = set()
    typed = 0
    while queue and typed < LIMIT:
        screen, path = queue.popleft()
        choices = [("1", "__page__")] if screen.get("pages") else []
        choices += list((screen.get("options") or {}).items()) + list((screen.get("letters") or {}).items())
        for key, data in choices:
            if data in seen:
                continue
            seen.add(data)
            core.storage.save_screen("zalo", account, screen)  # back on the screen that offered it
            where = f"{path} > {key}"
            check(ui.handle(user, key), where)
            typed += 1
            after = core.storage.load_screen("zalo", account)
            if after != screen:
                queue.append((after, where))
    assert typed >= 500, f"the crawl reached most screens ({typed})"
    print(f"\n{typed} numbers typed; longest message {LONGEST[0]} characters (limit {ZALO_LIMIT})")
