"""Configuration file and environment overrides."""

import pytest

from bot import config as config_mod
from bot.config import ConfigError


def test_defaults_and_relative_paths(tmp_path):
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text("database: data/x.sqlite3\nknowledge_dir: kb\n", encoding="utf-8")
    cfg = config_mod.load(cfg_file, env={})
    assert cfg.database == tmp_path / "data" / "x.sqlite3"
    assert cfg.knowledge_dir == tmp_path / "kb"
    assert cfg.timezone == "Asia/Ho_Chi_Minh"
    assert cfg.search.answer_threshold == 44
    assert (cfg.search.contested_threshold, cfg.search.lead) == (55, 4)


def test_environment_overrides_every_key(tmp_path):
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text("admin_ids: [1]\n", encoding="utf-8")
    env = {
        "ISOBOT_DATABASE": "/tmp/other.sqlite3",
        "ISOBOT_KNOWLEDGE_DIR": "/srv/kb",
        "ISOBOT_ADMIN_IDS": "5, 6",
        "ISOBOT_TIMEZONE": "UTC",
        "ISOBOT_ANSWER_THRESHOLD": "70",
        "ISOBOT_SUGGEST_THRESHOLD": "30",
        "ISOBOT_MARGIN": "3",
        "ISOBOT_OUT_OF_SCOPE_MARGIN": "2.5",
        "ISOBOT_CONTESTED_THRESHOLD": "80",
        "ISOBOT_LEAD": "1.5",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
    }
    cfg = config_mod.load(cfg_file, env=env)
    assert str(cfg.database) == "/tmp/other.sqlite3" and str(cfg.knowledge_dir) == "/srv/kb"
    assert cfg.admin_ids == {"telegram:5", "telegram:6"} and cfg.timezone == "UTC"
    assert (cfg.search.answer_threshold, cfg.search.suggest_threshold, cfg.search.margin) == (70, 30, 3)
    assert cfg.search.out_of_scope_margin == 2.5
    assert (cfg.search.contested_threshold, cfg.search.lead) == (80, 1.5)
    assert cfg.api_base_url == "http://127.0.0.1:9/bot"


def test_token_comes_only_from_environment(tmp_path, monkeypatch):
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text("token: from-file\n", encoding="utf-8")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert config_mod.load(cfg_file, env={}).token == ""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert config_mod.load(cfg_file, env={}).token == "123:abc"


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="Không tìm thấy"):
        config_mod.load(tmp_path / "nope.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("search:\n  answer_threshold: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+"):
        config_mod.load(bad, env={})
    bad.write_text("admin_ids: [abc]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="admin_ids"):
        config_mod.load(bad, env={})


def test_zalo_and_file_endpoint_keys_and_admins_by_channel(tmp_path, monkeypatch):
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(
        "admin_ids: [123, 'zalo:5dc57f856315ad7309b4']\nzalo:\n  rate_per_second: 2\n"
        "files:\n  public_url: https://bot.example.vn/files/\n",
        encoding="utf-8",
    )
    cfg = config_mod.load(
        cfg_file,
        env={
            "ZALO_API_BASE_URL": "http://127.0.0.1:9",
            "ISOBOT_FILES_PORT": "9100",
            "ISOBOT_ZALO_WEBHOOK_URL": "https://bot.example.vn/zalo/hook",
        },
    )
    assert cfg.admin_ids == {"telegram:123", "zalo:5dc57f856315ad7309b4"}
    assert cfg.zalo.api_base_url == "http://127.0.0.1:9" and cfg.zalo.rate_per_second == 2
    assert cfg.zalo.webhook_url == "https://bot.example.vn/zalo/hook"
    assert cfg.files.public_url == "https://bot.example.vn/files" and cfg.files.port == 9100
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1:abc")
    assert cfg.zalo.token == "1:abc", "the token comes from the environment only"
    cfg_file.write_text("admin_ids: ['facebook:1']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="admin_ids"):
        config_mod.load(cfg_file, env={})
