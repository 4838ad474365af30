"""Configuration: config.yaml plus environment overrides. The bot token comes from the environment only."""

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

    answer_threshold: float = 42.0
    suggest_threshold: float = 28.0
    margin: float = 6.0
    out_of_scope_margin: float = 5.0


@dataclass(frozen=True)
class Config:
    """Everything the bot needs except secrets."""

    database: Path
    knowledge_dir: Path
    timezone: str = "Asia/Ho_Chi_Minh"
    admin_ids: frozenset[int] = frozenset()
    api_base_url: str = ""
    province: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_url: str = ""
    search: SearchConfig = field(default_factory=SearchConfig)
    source: Path | None = None
    cache_dir: Path | None = None   # pickled knowledge base + index (bot/cache.py); None: no cache

    @property
    def token(self) -> str:
        """The Telegram bot token, read from TELEGRAM_BOT_TOKEN (never from config.yaml)."""
        return os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()

    @property
    def webhook_secret(self) -> str:
        """The secret Telegram sends with every webhook request, from ISOBOT_WEBHOOK_SECRET (a secret: env only)."""
        return os.environ.get("ISOBOT_WEBHOOK_SECRET", "").strip()


def _ids(value: object) -> frozenset[int]:
    if value in (None, ""):
        return frozenset()
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    try:
        return frozenset(int(str(v).strip()) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"admin_ids phải là danh sách số (Telegram user id): {value!r}") from exc


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
            answer_threshold=_number("answer_threshold", pick("ISOBOT_ANSWER_THRESHOLD", search_raw.get("answer_threshold"), 42)),
            suggest_threshold=_number("suggest_threshold", pick("ISOBOT_SUGGEST_THRESHOLD", search_raw.get("suggest_threshold"), 28)),
            margin=_number("margin", pick("ISOBOT_MARGIN", search_raw.get("margin"), 6)),
            out_of_scope_margin=_number("out_of_scope_margin", pick(
                "ISOBOT_OUT_OF_SCOPE_MARGIN", search_raw.get("out_of_scope_margin"), 5)),
        ),
        source=file if file.exists() else None,
    )
