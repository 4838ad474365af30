"""``isobot run``: one process, one database, one scheduler, every channel whose token is set.

Telegram (TELEGRAM_BOT_TOKEN) and Zalo (ZALO_BOT_TOKEN) run in the same asyncio loop, so reminders,
broadcasts and the daily question reach users on either channel. The core answers one call at a
time (:mod:`handlers.runner`); the file endpoint serves generated files to Zalo at signed links. A lock
beside the database refuses a second process on the same database.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import logging
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Config
from bot.dialog import Core, build_core
from bot.files import FileLinks
from bot.storage import StorageError, explain
from handlers.hub import Hub
from handlers.runner import CoreRunner
from handlers.scheduler import Scheduler
from handlers.web import WebServer

log = logging.getLogger(__name__)
PURGE_FILES_MINUTES = 60


class AlreadyRunning(Exception):
    """Another isobot process holds the database."""


def lock_database(database: Path):
    """An exclusive lock on ``<database>.lock`` for the life of the process (released when it exits)."""
    path = Path(str(database) + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        raise StorageError(explain(Path(database), exc)) from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise AlreadyRunning(str(database)) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def run(config: Config, telegram_webhook: tuple[str, int, str, str] | None = None) -> int:
    """Run every configured channel until SIGTERM/SIGINT; start-up problems are one-line errors."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        lock = lock_database(config.database)
    except AlreadyRunning:
        print(
            f"Lỗi: một tiến trình isobot khác đang chạy với cơ sở dữ liệu {config.database}. "
            "Dừng tiến trình đó trước (mỗi cơ sở dữ liệu chỉ một tiến trình).",
            file=sys.stderr,
        )
        return 1
    try:
        core = build_core(config)
        return asyncio.run(_serve(config, core, telegram_webhook))
    finally:
        lock.close()


async def _serve(config: Config, core: Core, telegram_webhook) -> int:
    runner = CoreRunner()
    runner.warm_up()
    # The knowledge base, the search index and the libraries are loaded for good: move them out of
    # the collector's sight. A full collection under load then scans only what came later (measured
    # with 50 users: 2–15 ms instead of 63–225 ms with every chat waiting).
    gc.collect()
    gc.freeze()
    hub = Hub(core, runner)
    scheduler = Scheduler(core, runner, hub)
    core.scheduler = scheduler
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    files = await runner(
        FileLinks, core.storage, config.files.public_url, secret=config.files.secret, ttl_hours=config.files.ttl_hours
    )
    web = WebServer()
    cleanups = []
    try:
        if config.token:
            app = await _start_telegram(config, core, runner, hub, telegram_webhook)
            if app is None:
                return 1
            cleanups.append(lambda: _stop_telegram(app))
        if config.zalo.token:
            from handlers.zalo import ZaloChannel, ZaloError

            zalo = ZaloChannel(config.zalo, core, runner, files if config.files.public_url else None)
            hub.add(zalo)
            hook, secret = config.zalo.webhook_url, config.zalo.webhook_secret
            if hook and not 8 <= len(secret) <= 256:
                print("Lỗi: webhook Zalo cần ZALO_WEBHOOK_SECRET dài 8–256 ký tự.", file=sys.stderr)
                return 1
            if hook:
                hook_server = web if _same_listener(config) else WebServer()
                hook_server.add_zalo_webhook(urlsplit(hook).path or "/", zalo, secret)
                if hook_server is not web:
                    await hook_server.start(config.zalo.webhook_listen, config.zalo.webhook_port)
                    cleanups.append(hook_server.stop)
            if config.files.public_url or (hook and _same_listener(config)):
                await _serve_files(web, files, runner, config)
            try:
                await zalo.start(hook, secret)
            except ZaloError as exc:
                print(_zalo_error(exc), file=sys.stderr)
                return 1
            except Exception as exc:  # noqa: BLE001 - network errors at start-up are one line
                print(f"Lỗi: không kết nối được tới Zalo Bot API ({exc!r}).", file=sys.stderr)
                return 1
            cleanups.append(lambda: zalo.stop(webhook=bool(hook)))
        elif config.files.public_url:
            await _serve_files(web, files, runner, config)
        scheduler.start()

        async def purge_files() -> None:
            await runner(files.purge)

        scheduler.aps.add_job(purge_files, "interval", minutes=PURGE_FILES_MINUTES, id="files:purge")
        if config.keep_questions_days > 0:

            async def forget_old() -> None:
                counts = await runner(core.storage.purge_before, config.keep_questions_days)
                log.info("privacy: forgot what is older than %g days: %s", config.keep_questions_days, counts)

            scheduler.aps.add_job(
                forget_old, "interval", hours=24, id="privacy:purge", next_run_time=datetime.now(core.ctx.tz)
            )
        log.info("restored %d timed jobs", await scheduler.restore())
        log.info("running: %s", ", ".join(hub.channels) or "no channel")
        await stop.wait()
        return 0
    finally:
        scheduler.shutdown()
        for cleanup in reversed(cleanups):
            try:
                await cleanup()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.warning("error while stopping", exc_info=True)
        await web.stop()
        runner.close()


def _same_listener(config: Config) -> bool:
    return (config.zalo.webhook_listen, config.zalo.webhook_port) == (config.files.listen, config.files.port)


async def _serve_files(web: WebServer, files: FileLinks, runner: CoreRunner, config: Config) -> None:
    web.add_files(files, runner)
    port = await web.start(config.files.listen, config.files.port)
    log.info("file endpoint on %s:%s (public %s)", config.files.listen, port, config.files.public_url or "—")


def _zalo_error(exc) -> str:
    if exc.code == 401:
        return (
            "Lỗi: ZALO_BOT_TOKEN không hợp lệ (Zalo từ chối token). Lấy lại token trong Zalo Bot Manager "
            "(tin nhắn «Bot … đã được tạo» chứa token)."
        )
    return f"Lỗi: Zalo Bot API trả lỗi khi khởi động: {exc}."


async def _start_telegram(config: Config, core: Core, runner: CoreRunner, hub: Hub, webhook):
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from handlers.app import build_application

    app = build_application(config, core, runner=runner, hub=hub)
    try:
        await app.initialize()
    except InvalidToken:
        print(
            "Lỗi: TELEGRAM_BOT_TOKEN không hợp lệ (Telegram từ chối token). Kiểm tra lại token từ @BotFather.",
            file=sys.stderr,
        )
        return None
    except (NetworkError, TelegramError) as exc:
        print(f"Lỗi: không kết nối được tới Telegram Bot API ({exc}).", file=sys.stderr)
        return None
    if app.post_init:
        await app.post_init(app)
    await app.start()
    updater = app.updater
    assert updater is not None, "build_application makes an Application with an Updater"
    if webhook:
        listen, port, url, secret = webhook
        await updater.start_webhook(
            listen=listen,
            port=port,
            url_path=urlsplit(url).path.lstrip("/"),
            webhook_url=url,
            secret_token=secret or None,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        await updater.start_polling(allowed_updates=Update.ALL_TYPES)
    return app


async def _stop_telegram(app) -> None:
    if app.updater and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
