"""Broadcast benchmark: 5,000 recipients through the real PTB Bot, the process's hub (one pacer per
channel, shared by every broadcast) and our broadcaster, with a fake Bot API that adds network
latency and injects RetryAfter (429) and Forbidden (403) answers.

    .venv/bin/python benchmarks/broadcast.py [--recipients 5000] [--latency-ms 40]

Prints the achieved send rate against Telegram's 30 msg/s limit (target ≥ 0.9 of it, i.e. the
pacing wastes little), messages lost and duplicated (target 0 and 0), and peak RSS. Baseline in
the same run: a naive sequential loop (one await after another, no pacing) on the same fake API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest  # noqa: E402

from bot import broadcast  # noqa: E402
from bot.storage import Storage  # noqa: E402
from handlers.app import TelegramChannel  # noqa: E402
from handlers.hub import Hub  # noqa: E402
from handlers.runner import CoreRunner  # noqa: E402

LIMIT = 30.0


class FlakyBotAPI(BaseRequest):
    """Delivers after ``latency``; answers 429 with retry_after once in ``retry_every`` calls, 403 for blocked users."""

    def __init__(self, latency: float, blocked: set[int], retry_every: int, seed: int = 3):
        self.latency = latency
        self.blocked = blocked
        self.retry_every = retry_every
        self.delivered: Counter[int] = Counter()
        self.calls = 0
        self.rnd = random.Random(seed)

    async def initialize(self):
        pass

    async def shutdown(self):
        pass

    @property
    def read_timeout(self):
        return 5.0

    async def do_request(self, url, method, request_data=None, *args, **kwargs):
        name = url.rsplit("/", 1)[-1]
        if name == "getMe":
            return 200, json.dumps(
                {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "b", "username": "b"}}
            ).encode()
        await asyncio.sleep(self.latency * (0.5 + self.rnd.random()))
        self.calls += 1
        chat = int(request_data.parameters["chat_id"])
        if self.retry_every and self.calls % self.retry_every == 0:
            return 429, json.dumps(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
            ).encode()
        if chat in self.blocked:
            return 403, json.dumps(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            ).encode()
        self.delivered[chat] += 1
        msg = {"message_id": self.calls, "date": int(time.time()), "chat": {"id": chat, "type": "private"}, "text": "x"}
        return 200, json.dumps({"ok": True, "result": msg}).encode()


async def ours(n: int, latency: float, blocked: set[int], retry_every: int) -> dict:
    api = FlakyBotAPI(latency, blocked, retry_every)
    bot = Bot("1:bench", request=api, get_updates_request=api)
    await bot.initialize()
    with tempfile.TemporaryDirectory() as tmp:
        storage = Storage(Path(tmp) / "b.sqlite3")
        users = list(range(10_000, 10_000 + n))
        for u in users:
            storage.touch_user(u)  # Telegram users: person id = Telegram id
        bid = storage.create_broadcast(None, "bench", 0, "Nhắc việc thử", users)
        runner = CoreRunner()
        core = SimpleNamespace(storage=storage)
        hub = Hub(core, runner)
        hub.add(TelegramChannel(SimpleNamespace(bot=bot), core, runner))
        t0 = time.perf_counter()
        report = await broadcast.run(storage, bid, hub, call=runner)
        elapsed = time.perf_counter() - t0
    expected = set(users) - blocked
    lost = len(expected - set(api.delivered))
    dup = sum(c - 1 for c in api.delivered.values() if c > 1)
    return {
        "elapsed": elapsed,
        "rate": len(api.delivered) / elapsed,
        "sent": report.sent,
        "blocked": report.blocked,
        "failed": report.failed,
        "unknown": report.unknown,
        "lost": lost,
        "duplicates": dup,
        "requests": api.calls,
    }


async def naive(n: int, latency: float) -> dict:
    """Baseline: send one after another with no pacing and no bookkeeping (no 429s injected)."""
    api = FlakyBotAPI(latency, set(), 0)
    bot = Bot("1:bench", request=api, get_updates_request=api)
    await bot.initialize()
    t0 = time.perf_counter()
    for uid in range(10_000, 10_000 + n):
        await bot.send_message(uid, "Nhắc việc thử")
    elapsed = time.perf_counter() - t0
    return {"elapsed": elapsed, "rate": n / elapsed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipients", type=int, default=5000)
    ap.add_argument("--latency-ms", type=float, default=40.0, help="mean simulated Bot API latency")
    ap.add_argument("--retry-every", type=int, default=400, help="one 429 (retry_after 1 s) every N requests")
    ap.add_argument("--blocked", type=float, default=0.02, help="share of recipients who blocked the bot")
    args = ap.parse_args()
    rnd = random.Random(7)
    blocked = {u for u in range(10_000, 10_000 + args.recipients) if rnd.random() < args.blocked}
    latency = args.latency_ms / 1000
    print(
        f"{args.recipients:,} recipients, {len(blocked)} blocked, 429 every {args.retry_every} requests, "
        f"~{args.latency_ms:.0f} ms latency",
        flush=True,
    )
    base = asyncio.run(naive(min(args.recipients, 300), latency))
    print(f"  baseline (sequential, 300 msgs): {base['rate']:.1f} msg/s", flush=True)
    r = asyncio.run(ours(args.recipients, latency, blocked, args.retry_every))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  ours: {r['rate']:.1f} msg/s over {r['elapsed']:.0f} s; sent {r['sent']}, blocked {r['blocked']}, "
        f"failed {r['failed']}, unknown {r['unknown']}; {r['requests']} requests",
        flush=True,
    )
    print("\nTargets:")
    checks = [
        ("achieved rate vs 30 msg/s", f"{r['rate'] / LIMIT:.2f}×", r["rate"] / LIMIT >= 0.9, "≥ 0.9× (and ≤ 1.0×)"),
        ("messages lost", str(r["lost"]), r["lost"] == 0, "0"),
        ("duplicates", str(r["duplicates"]), r["duplicates"] == 0, "0"),
        ("peak RSS", f"{rss:.0f} MB", True, "reported"),
    ]
    for name, value, ok, target in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {name:30s} {value:>10s}   target {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
