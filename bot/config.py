"""Configuration: config.yaml plus environment overrides. Bot tokens and secrets come from the environment only."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_PATH = "config.yaml"


class ConfigError(Exception):
    """The configuration file is missing or malformed."""


@dataclass(frozen=True)
class SearchConfig:
    """Thresholds of the answer / suggest / decline gate (scores 0–100)."""

    answer_threshold: float = 44.0
    suggest_threshold: float = 28.0
    margin: float = 6.0
    out_of_scope_margin: float = 5.0
    contested_threshold: float = 55.0  # the score needed when a rival ranks within ``lead`` of the best
    lead: float = 4.0


ZALO_API = "https://bot-api.zaloplatforms.com"


@dataclass(frozen=True)
class ZaloConfig:
    """The Zalo Bot Platform channel (its token is ZALO_BOT_TOKEN, in the environment only)."""

    api_base_url: str = ZALO_API
    rate_per_second: float = 5.0  # messages the bot starts (broadcasts, reminders, daily questions)
    poll_timeout: int = 30  # getUpdates long-polling timeout, seconds
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8444
    webhook_url: str = ""  # empty: long polling

    @property
    def token(self) -> str:
        return os.environ.get("ZALO_BOT_TOKEN", "").strip()

    @property
    def webhook_secret(self) -> str:
        """The secret the platform sends back in X-Bot-Api-Secret-Token (ZALO_WEBHOOK_SECRET, env only)."""
        return os.environ.get("ZALO_WEBHOOK_SECRET", "").strip()


@dataclass(frozen=True)
class FilesConfig:
    """The HTTP endpoint that serves generated files at signed, expiring links (for Zalo)."""

    listen: str = "127.0.0.1"
    port: int = 8090
    public_url: str = ""  # the address users' phones reach, e.g. https://bot.example.vn/files
    ttl_hours: float = 24.0

    @property
    def secret(self) -> str:
        """ISOBOT_FILES_SECRET (env only); without it a random key is kept in the database."""
        return os.environ.get("ISOBOT_FILES_SECRET", "").strip()


@dataclass(frozen=True)
class Config:
    """Everything the bot needs except secrets."""

    database: Path
    knowledge_dir: Path
    timezone: str = "Asia/Ho_Chi_Minh"
    admin_ids: frozenset[str] = frozenset()  # account keys: "telegram:123", "zalo:abc"
    api_base_url: str = ""
    province: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_url: str = ""
    search: SearchConfig = field(default_factory=SearchConfig)
    source: Path | None = None
    cache_dir: Path | None = None  # pickled knowledge base + index (bot/cache.py); None: no cache
    zalo: ZaloConfig = field(default_factory=ZaloConfig)
    files: FilesConfig = field(default_factory=FilesConfig)
    keep_questions_days: float = 365.0  # questions asked, answers shown are forgotten after this; 0 = keep

    @property
    def token(self) -> str:
        """The Telegram bot token, read from TELEGRAM_BOT_TOKEN (never from config.yaml)."""
        return os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()

    @property
    def webhook_secret(self) -> str:
        """The secret Telegram sends with every webhook request, from ISOBOT_WEBHOOK_SECRET (a secret: env only)."""
        return os.environ.get("ISOBOT_WEBHOOK_SECRET", "").strip()


def _ids(value: object) -> frozenset[str]:
    """Admin accounts as keys: 123 and "telegram:123" are Telegram ids, "zalo:<id>" a Zalo user."""
    from bot.roles import account_key

    if value in (None, ""):
        return frozenset()
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, (list, tuple, set, frozenset)):
        value = [value]
    keys = [account_key(v) for v in value]
    if any(k is None for k in keys):
        raise ConfigError(f"admin_ids phải là danh sách mã người dùng (số Telegram, hoặc zalo:<mã>): {value!r}")
    return frozenset(k for k in keys if k)


def _number(name: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} phải là một số, không phải {value!r}") from exc


def load(path: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> Config:
    """Read ``path`` (default ./config.yaml), apply ISOBOT_* / TELEGRAM_* overrides, resolve paths.

    A missing default file is fine (built-in defaults); a missing explicit file is an error.
    """
    env = dict(os.environ if env is None else env)
    explicit = path is not None
    file = Path(path or DEFAULT_PATH)
    raw: dict = {}
    if file.exists():
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{file}:{mark.line + 1}" if mark else str(file)
            raise ConfigError(f"{where}: YAML không hợp lệ: {getattr(exc, 'problem', exc)}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{file}: phải là một bảng khóa: giá trị")
    elif explicit:
        raise ConfigError(f"Không tìm thấy tệp cấu hình {file}")
    base = file.resolve().parent
    search_raw = raw.get("search") or {}
    telegram_raw = raw.get("telegram") or {}
    webhook_raw = telegram_raw.get("webhook") or {}
    zalo_raw = raw.get("zalo") or {}
    zalo_hook = zalo_raw.get("webhook") or {}
    files_raw = raw.get("files") or {}

    def pick(env_name: str, value: object, default: object) -> object:
        return env[env_name] if env.get(env_name, "") != "" else (default if value is None else value)

    def resolve(p: object) -> Path:
        q = Path(str(p)).expanduser()
        return q if q.is_absolute() else base / q

    cache = str(pick("ISOBOT_CACHE_DIR", raw.get("cache_dir"), "data/cache") or "").strip()
    return Config(
        cache_dir=None if cache.lower() in ("", "off", "none", "false") else resolve(cache),
        database=resolve(pick("ISOBOT_DATABASE", raw.get("database"), "data/isobot.sqlite3")),
        knowledge_dir=resolve(pick("ISOBOT_KNOWLEDGE_DIR", raw.get("knowledge_dir"), "knowledge")),
        timezone=str(pick("ISOBOT_TIMEZONE", raw.get("timezone"), "Asia/Ho_Chi_Minh")),
        admin_ids=_ids(pick("ISOBOT_ADMIN_IDS", raw.get("admin_ids"), [])),
        api_base_url=str(pick("TELEGRAM_API_BASE_URL", telegram_raw.get("api_base_url"), "") or ""),
        province=str(pick("ISOBOT_PROVINCE", raw.get("province"), "") or ""),
        webhook_listen=str(pick("ISOBOT_WEBHOOK_LISTEN", webhook_raw.get("listen"), "0.0.0.0")),
        webhook_port=int(_number("webhook.port", pick("ISOBOT_WEBHOOK_PORT", webhook_raw.get("port"), 8443))),
        webhook_url=str(pick("ISOBOT_WEBHOOK_URL", webhook_raw.get("url"), "") or ""),
        search=SearchConfig(
            answer_threshold=_number(
                "answer_threshold", pick("ISOBOT_ANSWER_THRESHOLD", search_raw.get("answer_threshold"), 44)
            ),
            suggest_threshold=_number(
                "suggest_threshold", pick("ISOBOT_SUGGEST_THRESHOLD", search_raw.get("suggest_threshold"), 28)
            ),
            margin=_number("margin", pick("ISOBOT_MARGIN", search_raw.get("margin"), 6)),
            out_of_scope_margin=_number(
                "out_of_scope_margin", pick("ISOBOT_OUT_OF_SCOPE_MARGIN", search_raw.get("out_of_scope_margin"), 5)
            ),
            contested_threshold=_number(
                "contested_threshold",
                pick("ISOBOT_CONTESTED_THRESHOLD", search_raw.get("contested_threshold"), 55),
            ),
            lead=_number("lead", pick("ISOBOT_LEAD", search_raw.get("lead"), 4)),
        ),
        source=file if file.exists() else None,
        keep_questions_days=_number(
            "privacy.keep_questions_days",
            pick("ISOBOT_KEEP_QUESTIONS_DAYS", (raw.get("privacy") or {}).get("keep_questions_days"), 365),
        ),
        zalo=ZaloConfig(
            api_base_url=str(pick("ZALO_API_BASE_URL", zalo_raw.get("api_base_url"), ZALO_API) or ZALO_API),
            rate_per_second=_number(
                "zalo.rate_per_second", pick("ISOBOT_ZALO_RATE", zalo_raw.get("rate_per_second"), 5)
            ),
            poll_timeout=int(
                _number("zalo.poll_timeout", pick("ISOBOT_ZALO_POLL_TIMEOUT", zalo_raw.get("poll_timeout"), 30))
            ),
            webhook_listen=str(pick("ISOBOT_ZALO_WEBHOOK_LISTEN", zalo_hook.get("listen"), "0.0.0.0")),
            webhook_port=int(
                _number("zalo.webhook.port", pick("ISOBOT_ZALO_WEBHOOK_PORT", zalo_hook.get("port"), 8444))
            ),
            webhook_url=str(pick("ISOBOT_ZALO_WEBHOOK_URL", zalo_hook.get("url"), "") or ""),
        ),
        files=FilesConfig(
            listen=str(pick("ISOBOT_FILES_LISTEN", files_raw.get("listen"), "127.0.0.1")),
            port=int(_number("files.port", pick("ISOBOT_FILES_PORT", files_raw.get("port"), 8090))),
            public_url=str(pick("ISOBOT_PUBLIC_URL", files_raw.get("public_url"), "") or "").rstrip("/"),
            ttl_hours=_number("files.ttl_hours", pick("ISOBOT_FILES_TTL_HOURS", files_raw.get("ttl_hours"), 24)),
        ),
    )
