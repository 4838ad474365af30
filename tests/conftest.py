"""Shared fixtures: the real knowledge base, real SQLite files under tmp_path, the real Application."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config as config_mod
from bot import loader
from bot.dialog import Core
from bot.search import Searcher
from bot.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SHARED_TG_EMULATOR = ROOT.parent / "shared" / "tools" / "tg-emulator"


@pytest.fixture(scope="session")
def tg_emulator() -> Path:
    """A writable copy of the Telegram emulator with its node packages (the shared copy may be read-only)."""
    import shutil
    import subprocess

    copy = ROOT / ".cache" / "tg-emulator"
    assert SHARED_TG_EMULATOR.is_dir(), f"missing {SHARED_TG_EMULATOR}: CI must have ../shared beside the clone"
    assert shutil.which("node") and shutil.which("npm"), "end-to-end tests need node and npm"
    if not (copy / "node_modules" / "telegram-test-api").is_dir():
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(SHARED_TG_EMULATOR, copy, ignore=shutil.ignore_patterns("node_modules"))
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=copy, check=True, timeout=300)
    return copy


@pytest.fixture(scope="session")
def kb():
    """The real knowledge base, loaded strictly (any content problem fails the tests)."""
    return loader.load(KNOWLEDGE)


@pytest.fixture(scope="session")
def searcher(kb):
    return Searcher(kb, config_mod.load(ROOT / "config.yaml", env={}).search)


@pytest.fixture(scope="session")
def index_cache(tmp_path_factory) -> Path:
    """One index cache for the session's bot processes, as a deployment keeps one: the first start builds
    the index and trains the phrasing classifier (about 5 s), the others load it."""
    return tmp_path_factory.mktemp("index-cache")


@pytest.fixture
def config_file(tmp_path, index_cache) -> Path:
    """A config.yaml in tmp_path pointing at the real knowledge, a fresh database file and the session's
    index cache."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database: {tmp_path / 'bot.sqlite3'}\nknowledge_dir: {KNOWLEDGE}\ntimezone: Asia/Ho_Chi_Minh\n"
        f"cache_dir: {index_cache}\nadmin_ids: [777]\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(config_file):
    return config_mod.load(config_file, env={})


@pytest.fixture
def storage(config):
    s = Storage(config.database)
    yield s
    s.close()


@pytest.fixture
def core(kb, searcher, storage):
    return Core(kb, searcher, storage)


@pytest.fixture
def lang_son(kb, searcher, config):
    """Make a Core for the province of Lạng Sơn on the test database, admin 777 (config.yaml's), with
    the clock a test passes (``today=``, ``now=``); call it again to 'restart' the bot."""

    def make(**clock) -> Core:
        return Core(kb, searcher, Storage(config.database), province="Lạng Sơn", admin_ids={777}, **clock)

    return make


@pytest.fixture
async def offline_app(config, kb, searcher):
    """Start the real Application offline on the test database, with the process's hub and scheduler
    (``app.bot_data["scheduler"]``, not started: tests run its jobs themselves); call it again to
    'restart' the bot. Returns (app, api, core): ``api`` records every Bot API call."""
    from handlers.app import build_application
    from handlers.hub import Hub
    from handlers.runner import CoreRunner
    from handlers.scheduler import Scheduler
    from tests.telegram_offline import OfflineBotAPI

    apps = []

    async def start(**core_options):
        api = OfflineBotAPI()
        core = Core(kb, searcher, Storage(config.database), **core_options)
        runner = CoreRunner()
        hub = Hub(core, runner)
        app = build_application(config, core, token="1:A", request=api, runner=runner, hub=hub)
        core.scheduler = app.bot_data["scheduler"] = Scheduler(core, runner, hub)  # as `isobot run` does
        await app.initialize()
        apps.append(app)
        return app, api, core

    yield start
    for app in apps:
        await app.shutdown()  # a no-op for an app a test already shut down
