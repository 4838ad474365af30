"""The Zalo channel against a Bot API that misbehaves: 5xx, 429, non-JSON bodies, batched updates,
timeouts, 400 and 401. The real ZaloChannel and core (real SQLite) talk to a scripted server on
127.0.0.1; nothing may crash the poller, nothing is lost that can be retried, no message goes out
over 2,000 characters."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from bot import broadcast
from bot.config import ZaloConfig
from bot.dialog import Core
from bot.storage import Storage
from handlers.runner import CoreRunner
from handlers.web import WebServer
from handlers.zalo import ZaloChannel, ZaloError

TOKEN = "42:fault-test"


class FakeZalo:
    """A Zalo Bot API whose answers follow a script per method; records every call."""

    def __init__(self, script: dict[str, list]):
        self.script = script
        self.calls: list[tuple[str, dict]] = []
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = json.loads(await request.read() or b"{}")
        self.calls.append((method, params))
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        steps = self.script.get(method)
        step = steps.pop(0) if steps and len(steps) > 1 else (steps[0] if steps else "ok")
        if isinstance(step, (int, float)) and step < 1:  # a delay: longer than the client waits
            await asyncio.sleep(step * 10)
            step = "ok"
        if step == "ok":
            result = {"message_id": "m", "date": 0} if method.startswith("send") else {"id": "1", "account_name": "bot"}
            return web.json_response({"ok": True, "result": result})
        if step == "html":
            return web.Response(status=502, text="<html>Bad gateway</html>", content_type="text/html")
        if step == 408:  # a quiet long poll ends after its timeout
            await asyncio.sleep(0.2)
        if isinstance(step, int):
            return web.json_response({"ok": False, "error_code": step, "description": f"error {step}"}, status=step)
        return web.json_response({"ok": True, "result": step})  # an update, or a list of them


def update(chat: str, text: str) -> dict:
    return {
        "event_name": "message.text.received",
        "message": {
            "chat": {"id": chat, "chat_type": "PRIVATE"},
            "text": text,
            "message_id": "x",
            "date": 0,
            "from": {"id": chat, "display_name": "Lan", "is_bot": False},
        },
    }


@pytest.fixture
async def fake_zalo(kb, searcher, config):
    servers = []

    async def start(script: dict, **zalo):
        fake = FakeZalo(script)
        runner = web.AppRunner(fake.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        servers.append(runner)
        port = site._server.sockets[0].getsockname()[1]
        core = Core(kb, searcher, Storage(config.database))
        token = zalo.pop("token", TOKEN)
        channel = ZaloChannel(
            ZaloConfig(api_base_url=f"http://127.0.0.1:{port}", poll_timeout=1, **zalo),
            core,
            CoreRunner(),
            None,
            token=token,
        )
        return fake, channel

    yield start
    for r in servers:
        await r.cleanup()


async def wait_for(condition, seconds: float = 15.0) -> None:
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_the_poller_survives_errors_and_answers_batched_updates(fake_zalo):
    long_question = "đánh giá nội bộ " + "rất " * 1500
    script = {
        "getUpdates": ["html", 429, [update("c1", "danh gia noi bo bao lau 1 lan"), update("c2", long_question)], 408],
        "sendMessage": [429, 503, "ok"],
    }
    fake, channel = await fake_zalo(script)
    await channel.start()
    try:
        await wait_for(lambda: {p["chat_id"] for m, p in fake.calls if m == "sendMessage"} >= {"c1", "c2"}, 30)
        await wait_for(lambda: sum(1 for m, _ in fake.calls if m == "getUpdates") >= 6)
    finally:
        await channel.stop()
    sends = [p for m, p in fake.calls if m == "sendMessage"]
    assert len(sends) == 4, "the first two sends got 429 and 503, and were retried until accepted"
    last = {p["chat_id"]: p["text"] for p in sends}
    assert "Nguồn:" in last["c1"]
    assert "ký tự đầu" in last["c2"], "a 6,000-character message is answered"
    assert all(len(p["text"]) <= 2000 for p in sends)


async def test_a_reply_that_is_refused_or_times_out_does_not_stop_the_chat(fake_zalo):
    fake, channel = await fake_zalo({"getUpdates": [408], "sendMessage": [400, 404, 0.2, "ok"]})
    channel.send_timeout = 0.5
    await channel.start()
    try:
        channel.dispatch(update("c9", "/start"))  # 400 (chat not found): logged, not retried
        channel.dispatch(update("c9", "/chude"))  # 404: logged, not retried
        channel.dispatch(update("c9", "/help"))  # times out once, then goes out
        await wait_for(lambda: sum(1 for m, _ in fake.calls if m == "sendMessage") >= 4)
        await asyncio.sleep(0.3)
    finally:
        await channel.stop()
    texts = [p["text"] for m, p in fake.calls if m == "sendMessage"]
    assert len(texts) == 4, "the refused replies were not sent again"
    assert texts[0].startswith("Xin chào") and "nhóm chủ đề" in texts[1]
    assert texts[2].startswith("Cách dùng") and texts[3] == texts[2], "the timed-out reply went out on the retry"


async def test_a_wrong_token_is_a_clear_error_at_start(fake_zalo):
    fake, channel = await fake_zalo({}, token="1:wrong")
    with pytest.raises(ZaloError) as err:
        await channel.start()
    assert err.value.code == 401
    await channel.stop()


async def test_broadcast_errors_map_to_what_the_broadcast_engine_retries(fake_zalo):
    fake, channel = await fake_zalo({"sendMessage": [429, 403, 400, 0.2, "ok"]})
    channel.send_timeout = 0.5
    await channel.start()
    try:
        with pytest.raises(broadcast.RetryLater):
            await channel.send_text("c1", "nhắc việc")
        with pytest.raises(broadcast.Blocked):
            await channel.send_text("c1", "nhắc việc")
        with pytest.raises(broadcast.SendFailed) as failed:
            await channel.send_text("c1", "nhắc việc")
        assert not failed.value.ambiguous
        with pytest.raises(broadcast.SendFailed) as timed_out:
            await channel.send_text("c1", "nhắc việc")
        assert timed_out.value.ambiguous, "a timed-out message may have arrived: never resent"
        await channel.send_text("c1", "x" * 4500)  # split, never over the limit
    finally:
        await channel.stop()
    assert [len(p["text"]) for m, p in fake.calls if m == "sendMessage"][-3:] == [2000, 2000, 500]


async def test_the_webhook_refuses_requests_without_the_secret():
    got = []

    class Channel:
        def dispatch(self, u):
            got.append(u)

    server = WebServer()
    server.add_zalo_webhook("/zalo/hook", Channel(), "s3cret-token")
    port = await server.start("127.0.0.1", 0)
    import aiohttp

    url = f"http://127.0.0.1:{port}/zalo/hook"
    body = json.dumps({"ok": True, "result": update("c1", "xin chào")})
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(url, data=body) as r:
                assert r.status == 403
            async with s.post(url, data=body, headers={"X-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 403
            async with s.post(url, data="{not json", headers={"X-Bot-Api-Secret-Token": "s3cret-token"}) as r:
                assert r.status == 400
            async with s.post(url, data=body, headers={"X-Bot-Api-Secret-Token": "s3cret-token"}) as r:
                assert r.status == 200
    finally:
        await server.stop()
    assert [u["message"]["text"] for u in got] == ["xin chào"]


async def test_the_daily_question_reaches_a_zalo_user_who_answers_by_letter(fake_zalo):
    """The scheduler's daily job on Zalo: the question with A–D (the screen is kept), then 'B' answers it."""
    from handlers.hub import Hub
    from handlers.scheduler import Scheduler

    fake, channel = await fake_zalo({"getUpdates": [408]})
    core = channel.core
    hub = Hub(core, channel.runner)
    hub.add(channel)
    scheduler = Scheduler(core, channel.runner, hub)
    core.scheduler = scheduler
    await channel.start()
    try:
        user = core.identify("zalo", "c7", "Lan")
        core.storage.set_daily(user.id, "07:00")
        await scheduler.restore()
        assert f"daily:{user.id}" in scheduler.jobs()
        await scheduler._daily_job(user.id)
        (question,) = [p["text"] for m, p in fake.calls if m == "sendMessage"]
        assert "Câu 1/1" in question and "\nA. " in question and "Gõ chữ A, B, C" in question
        channel.dispatch(update("c7", "B"))
        await wait_for(lambda: sum(1 for m, _ in fake.calls if m == "sendMessage") >= 2)
    finally:
        await channel.stop()
    verdict = [p["text"] for m, p in fake.calls if m == "sendMessage"][1]
    assert verdict.startswith(("✅ Đúng rồi!", "❌ Chưa đúng")) and "Kết quả: đúng" in verdict


async def test_zalo_without_a_file_endpoint_warns_at_start(fake_zalo, caplog):
    """Zalo report §12: without files.public_url no file reaches Zalo; the log says so at start-up."""
    with caplog.at_level("WARNING", logger="handlers.zalo"):
        await fake_zalo({})
    assert any("files.public_url" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
