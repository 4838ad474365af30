"""The Zalo channel: the Zalo Bot Platform's HTTP API (shaped like Telegram's) in front of the core.

Zalo has no buttons, edits, documents or polls, and a message holds 2,000 characters: every reply
goes through :class:`bot.textui.TextUI`, which numbers the options, pages long text and turns files
into signed links (pictures are sent with ``sendPhoto`` from the file endpoint). Updates arrive by
long polling (``getUpdates`` hands out one update per call, 408 when nothing came) or by webhook;
each chat is answered in order, different chats at once. API errors are retried with back-off where
retrying is safe (429, 5xx, network errors); nothing crashes the poller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot import broadcast
from bot.broadcast import Pacer
from bot.config import ZaloConfig
from bot.dialog import Core
from bot.files import FileLinks
from bot.reply import Attachment, Reply, Upload, User
from bot.textui import ZALO_LIMIT, Out, TextUI, split_text
from handlers.runner import CoreRunner

log = logging.getLogger(__name__)
CHANNEL = "zalo"
SEND_TRIES = 4
CONFLICTS_BEFORE_STOP = 5


class ZaloError(Exception):
    """An ``{"ok": false}`` answer of the Bot API (whatever the HTTP status), or a non-JSON one."""

    def __init__(self, code: int, description: str):
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


NetworkError = (aiohttp.ClientError, asyncio.TimeoutError)
MAX_PHOTO_BYTES = 5_000_000
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the API base may be on this machine


class ZaloApi:
    """``{base}/bot{token}/{method}``, POST with a JSON body; returns ``result`` or raises ZaloError.

    The JSON body is read whatever the HTTP status (the platform may answer 4xx with ``ok: false``)."""

    def __init__(self, base: str, token: str, session: aiohttp.ClientSession):
        self.base = base.rstrip("/")
        self.token = token
        self.session = session

    async def call(self, method: str, *, http_timeout: float = 15.0, **params: Any) -> Any:
        async with self.session.post(
            f"{self.base}/bot{self.token}/{method}", json=params, timeout=aiohttp.ClientTimeout(total=http_timeout)
        ) as r:
            return result_of(r.status, await r.read())


def result_of(status: int, raw: bytes) -> Any:
    """``result`` of a Bot API answer, or ZaloError for ``ok: false`` and for a body that is not one."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise ZaloError(status, f"HTTP {status}, not JSON") from None
    if not isinstance(body, dict) or "ok" not in body:
        raise ZaloError(status, f"HTTP {status}, unexpected body")
    if not body.get("ok"):
        raise ZaloError(int(body.get("error_code") or status or 0), str(body.get("description") or ""))
    return body.get("result")


def _string(value: object) -> str:
    """A field of an update that should be text; anything else (absent, a number, a list) is empty."""
    return value if isinstance(value, str) else ""


def session_for(base_url: str) -> aiohttp.ClientSession:
    """Keep connections alive to the platform (HTTPS over the internet: a TLS handshake per call would
    cost more than the call), not to a peer on this machine (a local proxy or the emulator), where a
    new connection is free and a kept one can stall 40 ms per reply on Nagle and delayed ACKs."""
    host = (urlsplit(base_url).hostname or "").lower()
    local = host in ("localhost", "::1") or host.startswith("127.")
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=local, limit=40), trust_env=False)


class ZaloChannel:
    """Receives Zalo updates, answers them through the core, and sends what the hub asks."""

    name = CHANNEL
    send_timeout = 15.0  # seconds for one send (a reply, a broadcast message, a photo)

    def __init__(
        self, config: ZaloConfig, core: Core, runner: CoreRunner, files: FileLinks | None, *, token: str | None = None
    ):
        self.config = config
        self.core = core
        self.runner = runner
        self.files = files
        self.token = token or config.token
        self.pacer = Pacer(max(config.rate_per_second, 0.1))
        self.ui = TextUI(
            core, CHANNEL, publish=self._publish, limit=ZALO_LIMIT, link_hours=files.ttl / 3600 if files else 24
        )
        if files is None:
            log.warning(
                "Zalo runs without files.public_url: forms, reports, charts and exports cannot be sent on Zalo "
                "(users are told to ask the Sở for them). Set files.public_url (README, Deploying on Zalo, step 3)."
            )
        self.session: aiohttp.ClientSession | None = None
        self.api: ZaloApi | None = None
        self.queues: dict[str, asyncio.Queue] = {}
        self.tasks: set[asyncio.Task] = set()
        self.poller: threading.Thread | None = None
        self.stopped = asyncio.Event()
        self.halt = threading.Event()
        self.me: dict = {}

    @property
    def client(self) -> ZaloApi:
        """The API client :meth:`start` makes: whatever fetches or sends runs after it."""
        assert self.api is not None, "the Zalo channel is not started"
        return self.api

    # ------------------------------------------------------------------ life cycle

    async def start(self, webhook_url: str = "", secret: str = "") -> None:
        """Check the token (a wrong one raises ZaloError 401), then poll, or set the webhook."""
        self.session = session_for(self.config.api_base_url)
        self.api = ZaloApi(self.config.api_base_url, self.token, self.session)
        self.me = await self.api.call("getMe") or {}
        log.info("Zalo bot %s (%s)", self.me.get("account_name"), self.me.get("id"))
        if webhook_url:
            await self.api.call("setWebhook", url=webhook_url, secret_token=secret)
            log.info("Zalo webhook set to %s", webhook_url)
        else:
            try:  # getUpdates does not work while a webhook is set
                await self.api.call("deleteWebhook")
            except (ZaloError, *NetworkError) as exc:
                log.warning("Zalo deleteWebhook: %s", exc)
            self.poller = threading.Thread(
                target=self._poll_forever, args=(asyncio.get_running_loop(),), name="zalo-poller", daemon=True
            )
            self.poller.start()

    async def stop(self, webhook: bool = False) -> None:
        """Stop polling (a poll in progress is dropped with the process), finish the chats being answered."""
        self.stopped.set()
        self.halt.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=10)
        if webhook and self.api:
            try:
                await self.api.call("deleteWebhook", http_timeout=3)
            except (ZaloError, *NetworkError):
                pass
        if self.session:
            await self.session.close()

    def _poll_forever(self, loop: asyncio.AbstractEventLoop) -> None:
        """Long polling, on a thread of its own: picking up the next update never waits for the loop to
        finish answering the last ones (getUpdates hands out one update per call). 408 means "nothing
        came": poll again at once. Errors back off, never crash; updates go to the loop's queues."""
        backoff, conflicts = 1.0, 0
        while not self.halt.is_set():
            try:
                result = self._get_updates()
            except ZaloError as exc:
                if exc.code == 408:
                    backoff, conflicts = 1.0, 0
                    continue
                if exc.code == 409:
                    conflicts += 1
                    log.error(
                        "Zalo getUpdates: 409 %s — another process is polling this bot (or a webhook is "
                        "set). Only one process may receive its messages.",
                        exc.description,
                    )
                    if conflicts >= CONFLICTS_BEFORE_STOP:
                        log.critical(
                            "Zalo polling stopped after %d conflicts in a row: stop the other process "
                            "and restart this one.",
                            conflicts,
                        )
                        return
                elif exc.code == 401:
                    log.critical("Zalo rejected the bot token (401): polling stopped. Check ZALO_BOT_TOKEN.")
                    return
                else:
                    log.warning("Zalo getUpdates failed: %s; retrying in %.0f s", exc, backoff)
            except OSError as exc:
                log.warning("Zalo getUpdates: network error %r; retrying in %.0f s", exc, backoff)
            else:
                backoff, conflicts = 1.0, 0
                for update in result if isinstance(result, list) else [result]:  # a list, in case it batches
                    if isinstance(update, dict) and update.get("event_name"):
                        try:
                            loop.call_soon_threadsafe(self.dispatch, update)
                        except RuntimeError:  # the loop has closed: the process is stopping
                            return
                continue
            self.halt.wait(backoff * (0.75 + random.random() / 2))
            backoff = min(backoff * 2, 60.0)

    def _get_updates(self) -> Any:
        """One blocking getUpdates call (standard library: one long request at a time needs no pool)."""
        url = f"{self.config.api_base_url.rstrip('/')}/bot{self.token}/getUpdates"
        body = json.dumps({"timeout": str(self.config.poll_timeout)}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with OPENER.open(request, timeout=self.config.poll_timeout + 10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as exc:  # a 4xx/5xx still carries the JSON answer
            status, raw = exc.code, exc.read()
        return result_of(status, raw)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopped.wait(), timeout=seconds * (0.75 + random.random() / 2))
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ incoming

    def dispatch(self, update: dict) -> None:
        """Queue an update on its chat: one chat's messages are answered in order, chats in parallel."""
        message = update.get("message")
        if not isinstance(message, dict):
            message = {}
        chat = str((message.get("chat") or {}).get("id") or (message.get("from") or {}).get("id") or "")
        if not chat:
            log.info("Zalo update without a chat: %r", update.get("event_name"))
            return
        queue = self.queues.get(chat)
        if queue is None:
            queue = self.queues[chat] = asyncio.Queue()
            task = asyncio.get_running_loop().create_task(self._drain(chat, queue))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        queue.put_nowait(update)

    async def _drain(self, chat: str, queue: asyncio.Queue) -> None:
        try:
            while True:
                try:
                    update = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    await self.handle(chat, update)
                except Exception:  # noqa: BLE001 - one bad update must not stop the chat or the poller
                    log.exception("error while handling Zalo update %r", update.get("event_name"))
                    await self._send_safe(chat, Out(self.core.kb.text("error")))
        finally:
            self.queues.pop(chat, None)

    async def handle(self, chat: str, update: dict) -> None:
        """One update: text through the text screens; a photo's caption as a question; the rest politely."""
        message = update.get("message") or {}
        sender = message.get("from") or {}
        name = str(sender.get("display_name") or sender.get("name") or "")
        event = update.get("event_name")
        text, caption = _string(message.get("text")), _string(message.get("caption"))

        photo = message.get("photo") if event == "message.image.received" else None
        upload = None
        if isinstance(photo, str) and photo.startswith(("http://", "https://")):
            data, kind = await self._fetch(photo)
            upload = Upload("photo", photo, f"anh-zalo.{kind}", data, caption)

        def work() -> list[Out]:
            with self.core.atomic():
                user = self.core.identify(CHANNEL, chat, name)
                if event == "message.text.received" and text.strip():
                    return self.ui.handle(user, text)
                return self.ui.render(user, self.core.non_text(user, caption if upload else "", upload))

        for out in await self.runner(work):
            await self._send_safe(chat, out)

    async def _fetch(self, url: str) -> tuple[bytes | None, str]:
        """A photo a user sent (the platform gives its URL; it may not last): its bytes, at most 5 MB,
        and its file extension; (None, "jpg") when it cannot be had (the URL is kept either way)."""
        try:
            async with self.client.session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as r:
                kind = r.headers.get("Content-Type", "").split(";")[0].strip()
                if r.status != 200 or kind not in PHOTO_TYPES:
                    return None, "jpg"
                data = await r.content.read(MAX_PHOTO_BYTES + 1)
                return (data if len(data) <= MAX_PHOTO_BYTES else None), PHOTO_TYPES[kind]
        except (*NetworkError, ValueError):
            log.info("could not fetch a photo from %s", url[:80])
            return None, "jpg"

    # ------------------------------------------------------------------ outgoing

    def _publish(self, attachment: Attachment) -> str | None:
        return self.files.publish(attachment) if self.files else None

    async def _send_out(self, chat: str, out: Out) -> None:
        if out.photo:
            try:
                await self.client.call("sendChatAction", chat_id=chat, action="upload_photo")
            except (ZaloError, *NetworkError):
                pass
            await self.client.call(
                "sendPhoto",
                http_timeout=self.send_timeout,
                chat_id=chat,
                photo=out.photo,
                caption=out.text[:ZALO_LIMIT],
            )
        else:
            for part in split_text(out.text, ZALO_LIMIT):  # TextUI keeps to the limit; this never lets more through
                await self.client.call("sendMessage", http_timeout=self.send_timeout, chat_id=chat, text=part)

    async def _send_safe(self, chat: str, out: Out) -> None:
        """A reply: retried on 429, 5xx and network errors with back-off; given up (logged) otherwise."""
        delay = 1.0
        for attempt in range(1, SEND_TRIES + 1):
            try:
                await self._send_out(chat, out)
                return
            except ZaloError as exc:
                retry = exc.code == 429 or exc.code >= 500
                log.warning("Zalo send to %s failed (%s)%s", chat, exc, "; retrying" if retry else "")
                if not retry:
                    return
            except NetworkError as exc:
                log.warning("Zalo send to %s: network error %r; retrying", chat, exc)
            if attempt < SEND_TRIES:
                await self._sleep(delay)
                delay *= 2
        log.error("Zalo send to %s given up after %d tries", chat, SEND_TRIES)

    async def send_text(self, account: str, text: str) -> None:
        """One plain message the bot starts: one try; errors as :meth:`send_reply`."""
        await self._send_once(account, Out(text))

    async def send_reply(self, user: User, reply: Reply) -> None:
        """A reply the bot starts (a broadcast, a daily question) with its buttons as numbered options; the
        screen is kept, so the "1" the person types next means its first option. One try: the broadcast
        engine retries what may be retried."""
        for out in await self.runner(self.ui.render, user, reply):
            await self._send_once(user.account, out)

    async def _send_once(self, account: str, out: Out) -> None:
        """Zalo's errors as bot.broadcast's: 429 and 5xx RetryLater, 403 Blocked, a timeout an ambiguous
        SendFailed (it may have arrived), anything else SendFailed."""
        try:
            await self._send_out(account, out)
        except ZaloError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise broadcast.RetryLater(2.0) from exc
            if exc.code == 403:
                raise broadcast.Blocked(str(exc), CHANNEL) from exc
            raise broadcast.SendFailed(str(exc)) from exc
        except TimeoutError as exc:
            raise broadcast.SendFailed("timed out", ambiguous=True) from exc
        except aiohttp.ClientError as exc:
            raise broadcast.SendFailed(repr(exc)) from exc

    async def progress(self, account: str, text: str, handle: object) -> object:
        """Zalo cannot edit a message: the first progress line is sent, the report follows at the end."""
        if handle is None:
            await self._send_safe(account, Out(text))
        return True
