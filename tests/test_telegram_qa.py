"""The real Application processing real Update objects offline (OfflineBotAPI instead of the network)."""

from __future__ import annotations

from datetime import UTC

import pytest

from handlers.app import build_application
from tests.telegram_offline import OfflineBotAPI, UpdateFactory


@pytest.fixture
async def tg(config, core):
    api = OfflineBotAPI()
    app = build_application(config, core, token="123456:TEST", request=api)
    await app.initialize()
    yield app, api, UpdateFactory(app.bot)
    await app.shutdown()


async def test_start_shows_welcome_and_menu(tg):
    app, api, make = tg
    await app.process_update(make.text("/start"))
    assert api.last_text().startswith("Xin chào Lan!")
    data = [d for _, d in api.last_buttons()]
    assert {"tg", "gh", "ch", "qh", "fl", "cal", "h"} <= set(data)
    assert data[-1] == "ur", "an unregistered user is offered unit registration"


async def test_commands_registered_with_vietnamese_descriptions(tg):
    app, api, make = tg
    await app.post_init(app)
    (params,) = api.sent("setMyCommands")
    names = {c["command"]: c["description"] for c in params["commands"]}
    assert {"start", "help", "chude", "huongdan", "tudanhgia", "quiz", "bieumau", "lich", "toi", "donvi"} <= set(names)
    assert all(0 < len(d) <= 256 for d in names.values())
    assert "chủ đề" in names["chude"]


@pytest.mark.parametrize("question", ["đánh giá nội bộ bao lâu làm 1 lần", "danh gia noi bo bao lau 1 lan"])
async def test_question_with_or_without_diacritics_gets_sourced_answer(tg, question, searcher):
    app, api, make = tg
    await app.process_update(make.text(question))
    text = api.last_text()
    expected = searcher.search(question)
    assert expected.matched
    assert text.startswith(expected.best.entry.title)
    assert "Nguồn:" in text and "9.2" in text
    assert any(d.startswith("f:") for _, d in api.last_buttons())


async def test_off_topic_question_is_declined_with_topic_menu(tg, storage):
    app, api, make = tg
    await app.process_update(make.text("thời tiết Lạng Sơn mai thế nào"))
    assert "chưa có thông tin" in api.last_text()
    assert all(d.startswith("g:") for _, d in api.last_buttons())
    rows = storage.unanswered()
    assert rows and rows[0]["times"] == 1


async def test_related_button_sends_that_entry(tg, kb):
    app, api, make = tg
    await app.process_update(make.text("htqlcl la gi"))
    first = api.last_text()
    assert len(first) <= 900, "the first screen of an answer fits a small phone"
    (more,) = [d for label, d in api.last_buttons() if label == "📖 Xem thêm"]
    message = api.messages[max(api.messages)]
    api.clear()
    await app.process_update(make.press(more, message))
    assert "(tiếp)" in api.last_text() and api.last_text() not in first
    related = [(label, d) for label, d in api.last_buttons() if d.startswith("e:")]
    assert related, "the rest of an answer offers related questions"
    label, data = related[0]
    message = api.messages[max(api.messages)]
    api.clear()
    await app.process_update(make.press(data, message))
    assert api.sent("answerCallbackQuery"), "every press is answered"
    assert api.last_text().startswith(kb.entries[data[2:]].title)


@pytest.mark.parametrize(
    "data", ["e:khong-ton-tai", "x:1", "t:boi-canh:99", "f:999999:u", "g:../../etc", "e:" + "a" * 70]
)
async def test_forged_or_stale_callback_gets_polite_reply(tg, data):
    app, api, make = tg
    await app.process_update(make.text("/start"))
    message = api.messages[max(api.messages)]
    api.clear()
    await app.process_update(make.press(data, message))
    (answer,) = api.sent("answerCallbackQuery")
    assert "không còn dùng được" in answer["text"]
    assert "không còn dùng được" in api.last_text()


async def test_topic_browser_edits_the_same_message(tg, kb):
    app, api, make = tg
    await app.process_update(make.text("/chude"))
    message = api.messages[max(api.messages)]
    group = next(iter(kb.groups.values()))
    await app.process_update(make.press(f"g:{group.id}", message))
    assert api.calls[-1][0] == "editMessageText"
    topic_id = group.topics[0]
    message = api.messages[(message["chat"]["id"], message["message_id"])]
    await app.process_update(make.press(f"t:{topic_id}:0", message))
    labels = [d for _, d in api.last_buttons()]
    assert any(d.startswith("e:") for d in labels) and f"g:{group.id}" in labels


async def test_feedback_is_stored_once(tg, storage):
    app, api, make = tg
    await app.process_update(make.text("ĐGNB là gì"))
    (down,) = [d for _, d in api.last_buttons() if d.endswith(":d")]
    message = api.messages[max(api.messages)]
    await app.process_update(make.press(down, message))
    assert "góp ý" in api.sent("answerCallbackQuery")[-1]["text"]
    await app.process_update(make.press(down, message))
    assert "rồi" in api.sent("answerCallbackQuery")[-1]["text"]
    summary = storage.feedback_summary()
    assert summary[0]["down"] == 1


async def test_feedback_button_of_another_user_is_refused(tg, config, core):
    app, api, make = tg
    await app.process_update(make.text("ĐGNB là gì"))
    (up,) = [d for _, d in api.last_buttons() if d.endswith(":u")]
    message = api.messages[max(api.messages)]
    intruder = UpdateFactory(app.bot, user_id=5555, first_name="Khách")
    await app.process_update(intruder.press(up, message))
    assert "không còn dùng được" in api.sent("answerCallbackQuery")[-1]["text"]


async def test_unknown_command_and_sticker_get_guidance(tg):
    app, api, make = tg
    await app.process_update(make.text("/xoahet"))
    assert "/xoahet" in api.last_text() and "/help" in api.last_text()
    await app.process_update(make.sticker())
    assert "tin nhắn chữ" in api.last_text()


async def test_an_edited_question_is_answered_again(tg):
    app, api, make = tg
    first = make.text("thoi tiet mai the nao")
    await app.process_update(first)
    assert "Nguồn:" not in api.last_text()
    await app.process_update(make.edited(first.message.message_id, "đánh giá nội bộ bao lâu làm một lần"))
    assert "Khoản 9.2" in api.last_text()


async def test_a_photo_is_answered_from_its_caption(tg):
    app, api, make = tg
    await app.process_update(make.photo("biên bản họp xem xét lãnh đạo ghi những gì"))
    text = api.last_text()
    assert "chú thích" in text and "Nguồn:" in text
    await app.process_update(make.photo())
    assert "tin nhắn chữ" in api.last_text()


async def test_huge_message_is_answered_without_error(tg):
    app, api, make = tg
    await app.process_update(make.text("đánh giá nội bộ " + "rất " * 1500))
    text = api.last_text()
    assert "ký tự đầu" in text
    assert len(text) <= 4096


async def test_html_in_question_is_escaped(tg):
    app, api, make = tg
    await app.process_update(make.text("<b>thời tiết</b> & <script>"))
    assert api.sent("sendMessage"), "Telegram accepted the HTML (the offline API rejects bad markup)"


async def test_in_a_group_the_mention_is_not_part_of_the_question(tg):
    app, api, make = tg
    await app.process_update(make.in_group(f"@{app.bot.username} đánh giá nội bộ bao lâu làm một lần"))
    assert "Khoản 9.2" in api.last_text()
    assert api.sent("sendMessage")[-1]["chat_id"] == -100123
    # the bot's name has "iso" in it: addressed by name, an off-topic question gets the private-chat reply
    await app.process_update(make.text("ăn trưa ở đâu"))
    private = api.last_text()
    await app.process_update(make.in_group(f"@{app.bot.username} ăn trưa ở đâu"))
    assert api.last_text() == private
    await app.process_update(make.in_group(f"/help@{app.bot.username}"))
    assert "/chude" in api.last_text()


async def test_a_member_joining_the_group_gets_no_reply(tg):
    app, api, make = tg
    await app.process_update(make.in_group(joined={"id": 77, "is_bot": False, "first_name": "Hùng"}))
    assert api.sent("sendMessage") == []


@pytest.mark.parametrize(
    "typed, same_as",
    [
        ("tự đánh giá", "/tudanhgia"),
        ("trac nghiem", "/quiz"),
        ("cho em xem lịch ISO", "/lich"),
        ("biểu mẫu", "/bieumau"),
        ("huong dan", "/huongdan"),
        ("chủ đề", "/chude"),
        ("help", "/help"),
        ("tudanhgia", "/tudanhgia"),
        ("bảng xếp hạng", "/bangxephang"),
        ("tiến độ", "/tiendo"),
        ("nhắc việc", "/nhacviec"),
    ],
)
async def test_typing_a_menu_item_opens_it_like_its_command(tg, typed, same_as):
    app, api, make = tg
    await app.process_update(make.text(same_as))
    expected = (api.last_text(), api.last_buttons())
    await app.process_update(make.text(typed))
    assert (api.last_text(), api.last_buttons()) == expected


async def test_menu_typed_shows_the_main_menu_and_a_longer_message_is_still_a_question(tg):
    app, api, make = tg
    await app.process_update(make.text("menu"))
    assert any(data == "qh" for _, data in api.last_buttons())
    await app.process_update(make.text("tự đánh giá bộ phận của mình có được không"))
    assert "Khoản 9.2" in api.last_text() and "Nguồn:" in api.last_text()


async def test_an_acknowledgement_gets_a_friendly_reply_not_a_decline(tg):
    app, api, make = tg
    await app.process_update(make.text("ok ad"))
    assert api.last_text().startswith("Dạ.") and any(data == "qh" for _, data in api.last_buttons())
    await app.process_update(make.text("ok vậy đánh giá nội bộ bao lâu 1 lần"))
    assert "Khoản 9.2" in api.last_text()


async def test_updates_of_different_chats_run_at_once_and_one_chats_in_order():
    import asyncio

    from telegram import Update

    from handlers.app import PerChatUpdateProcessor

    processor = PerChatUpdateProcessor(8)
    log = []
    gate = asyncio.Event()

    def update(chat: int) -> Update:
        return Update.de_json(
            {
                "update_id": chat,
                "message": {"message_id": 1, "date": 0, "text": "x", "chat": {"id": chat, "type": "private"}},
            },
            None,
        )

    async def work(name: str, wait: bool) -> None:
        log.append(f"start {name}")
        if wait:
            await gate.wait()  # chat 1's first update waits on the network
        log.append(f"end {name}")

    tasks = [
        asyncio.create_task(processor.process_update(update(1), work("1a", True))),
        asyncio.create_task(processor.process_update(update(1), work("1b", False))),
        asyncio.create_task(processor.process_update(update(2), work("2a", False))),
    ]
    await asyncio.sleep(0.05)
    assert log == ["start 1a", "start 2a", "end 2a"], "chat 2 did not wait for chat 1; 1b waits for 1a"
    gate.set()
    await asyncio.gather(*tasks)
    assert log[-3:] == ["end 1a", "start 1b", "end 1b"]


async def test_one_chats_updates_stay_in_order_when_a_third_comes_as_the_first_ends():
    """A runs, B waits for A, C arrives the moment A ends (B woken, not yet running): C must wait
    for B. (The lock of a chat used to be dropped in that gap, and C ran beside B.)"""
    import asyncio
    from datetime import datetime

    from telegram import Chat, Message, Update

    from handlers.app import PerChatUpdateProcessor

    def update(i: int) -> Update:
        return Update(i, message=Message(i, datetime.now(UTC), Chat(42, "private")))

    processor = PerChatUpdateProcessor(8)
    log: list[str] = []

    async def work(name: str, seconds: float) -> None:
        log.append(f"{name} start")
        await asyncio.sleep(seconds)
        log.append(f"{name} end")

    a = asyncio.create_task(processor.process_update(update(1), work("A", 0.05)))
    await asyncio.sleep(0.01)
    b = asyncio.create_task(processor.process_update(update(2), work("B", 0.05)))
    while "A end" not in log:
        await asyncio.sleep(0)
    c = asyncio.create_task(processor.process_update(update(3), work("C", 0.01)))
    other = asyncio.create_task(
        processor.process_update(Update(9, message=Message(9, datetime.now(UTC), Chat(7, "private"))), work("X", 0.001))
    )
    await asyncio.gather(a, b, c, other)
    ours = [x for x in log if not x.startswith("X")]
    assert ours == ["A start", "A end", "B start", "B end", "C start", "C end"]
    assert log.index("X end") < log.index("B end"), "another chat does not wait for this one"


async def test_after_a_burst_of_sends_only_a_few_idle_connections_stay_open():
    """20 sends at once through the bot's real HTTP request (httpx to a local server): afterwards at
    most KEEPALIVE_CONNECTIONS stay open. PTB kept all 20 (up to 256), and every later request walked
    them all in httpcore's pool: 30% of the bot's CPU under load."""
    import asyncio
    import json

    from handlers.app import KEEPALIVE_CONNECTIONS, application_builder

    open_now = 0
    peak = 0
    release = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, peak
        open_now += 1
        peak = max(peak, open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                await release.wait()  # hold every request until all 20 are in flight
                body = json.dumps({"ok": True, "result": True}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app = application_builder("123456:TEST", f"http://127.0.0.1:{port}/bot").updater(None).build()
    request = app.bot.request
    await request.initialize()
    try:
        calls = [
            asyncio.create_task(request.post(f"http://127.0.0.1:{port}/bot123456:TEST/sendChatAction", None))
            for _ in range(20)
        ]
        while peak < 20:
            await asyncio.sleep(0.01)
        release.set()
        assert all(r is True for r in await asyncio.gather(*calls))
        for _ in range(100):  # the server notices the closed connections
            if open_now <= KEEPALIVE_CONNECTIONS:
                break
            await asyncio.sleep(0.01)
        assert peak == 20, "the sends ran at once"
        assert open_now <= KEEPALIVE_CONNECTIONS, f"{open_now} idle connections kept open"
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()
