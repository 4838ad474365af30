"""The isobot command line, run as a real process where the interface is a stable contract."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from datetime import UTC
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from bot.cli import build_parser, cmd_chat, main

ISOBOT = Path(sys.executable).parent / "isobot"
JSON_KEYS = {"matched", "entry_id", "title", "answer", "score", "sources", "suggestions"}


def run(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(ISOBOT), *args], input=stdin, capture_output=True, text=True, timeout=60, env=env)


def test_ask_json_has_the_stable_shape(config_file):
    out = run("ask", "--json", "danh gia noi bo bao lau 1 lan", "--config", str(config_file))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == JSON_KEYS
    assert data["matched"] is True and data["entry_id"] and data["sources"]
    assert 0 <= data["score"] <= 100
    assert all(set(s) == {"entry_id", "title", "score"} for s in data["suggestions"])


def test_ask_json_stdin_streams_one_object_per_line(config_file):
    questions = "HTQLCL là gì\nthoi tiet lang son mai the nao\n\nddanhs gias noi booj\n"
    out = run("ask", "--json", "-", "--config", str(config_file), stdin=questions)
    lines = out.stdout.splitlines()
    assert len(lines) == 4
    rows = [json.loads(line) for line in lines]
    assert [r["matched"] for r in rows] == [True, False, False, True]
    assert rows[1]["entry_id"] is None and rows[1]["sources"] == []


def test_ask_handles_menu_items_typed_as_questions(config_file):
    # the bot opens the menu item; ask has no database, so items with per-user progress give the main menu
    out = run("ask", "--json", "-", "--config", str(config_file), stdin="tự đánh giá\ncho em xem lịch\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert all(set(r) == JSON_KEYS and r["matched"] is False and r["entry_id"] is None for r in rows)
    assert "Lịch ISO: việc cần làm trong 3 tháng tới" in rows[1]["answer"]
    plain = run("ask", "trac nghiem", "--config", str(config_file))
    assert plain.returncode == 0 and "chọn một mục" in plain.stdout, plain.stderr


def test_ask_json_flushes_each_line_before_reading_the_next(config_file):
    proc = subprocess.Popen(
        [str(ISOBOT), "--config", str(config_file), "ask", "--json", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        proc.stdin.write("HTQLCL là gì\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # would block forever without a flush per line
        assert first["matched"] is True
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_ask_prints_answer_with_sources(config_file):
    out = run("ask", "HTQLCL là gì", "--config", str(config_file))
    assert out.returncode == 0 and "Nguồn:" in out.stdout


def test_config_option_is_accepted_before_or_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["--config", "a.yaml", "kb", "check"]).config == "a.yaml"
    assert parser.parse_args(["kb", "check", "--config", "b.yaml"]).config == "b.yaml"


def test_run_without_token_is_a_one_line_error(config_file):
    env = {"PATH": "/usr/bin:/bin"}
    out = run("run", "--config", str(config_file), env=env)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in out.stderr


class _Unauthorized(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = b'{"ok":false,"error_code":401,"description":"Unauthorized"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_run_with_invalid_token_is_a_one_line_error(config_file):
    server = HTTPServer(("127.0.0.1", 0), _Unauthorized)  # answers like Telegram does to a revoked token
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "123:revoked",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{server.server_port}/bot",
    }
    try:
        out = run("run", "--config", str(config_file), env=env)
    finally:
        server.shutdown()
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "TELEGRAM_BOT_TOKEN không hợp lệ" in out.stderr


def test_missing_config_file_is_reported():
    out = run("kb", "check", "--config", "/nonexistent/config.yaml")
    assert out.returncode == 1 and "Không tìm thấy tệp cấu hình" in out.stderr


def test_chat_uses_the_same_conversation(config_file):
    args = build_parser().parse_args(["chat", "--config", str(config_file)])
    stdout = io.StringIO()
    assert (
        cmd_chat(args, stdin=io.StringIO("hop xem xet lanh dao can chuan bi gi\n1\n/chude\n/thoat\n"), stdout=stdout)
        == 0
    )
    text = stdout.getvalue()
    assert "Xin chào" in text and "Nguồn:" in text and "\n1. " in text and "chọn một nhóm chủ đề" in text
    assert "Gõ số để chọn; 0 = menu." in text


def test_a_restarted_chat_offers_the_checklist_in_progress_as_one(config_file):
    """The welcome of a new terminal chat puts «Làm tiếp» first: «1» goes back to the item the user was at."""
    args = build_parser().parse_args(["chat", "--config", str(config_file)])
    first = io.StringIO()
    assert cmd_chat(args, stdin=io.StringIO("/tudanhgia\n1\n1\n/thoat\n"), stdout=first) == 0
    at = re.findall(r"Câu (\d+)/(\d+)", first.getvalue())
    assert at and at[-1][0] == "2", "the first item was answered"
    again = io.StringIO()
    assert cmd_chat(args, stdin=io.StringIO("1\n/thoat\n"), stdout=again) == 0
    welcome, _, after = again.getvalue().partition("\n> ")
    assert "1. ▶️ Làm tiếp" in welcome and f"(câu 2/{at[-1][1]})" in welcome
    assert f"Câu 2/{at[-1][1]}" in after


def test_chat_ends_cleanly_on_end_of_input(config_file):
    args = build_parser().parse_args(["chat", "--config", str(config_file)])
    stdout = io.StringIO()
    assert cmd_chat(args, stdin=io.StringIO(""), stdout=stdout) == 0
    assert "Tạm biệt" in stdout.getvalue()


def test_unanswered_export_is_csv_most_frequent_first(config, core, capsys, config_file):
    from bot.dialog import User

    for q in ["cách tính thuế thu nhập cá nhân", "thời tiết mai", "cach tinh thue thu nhap ca nhan"]:
        core.ask(User(1), q)
    core.ask(User(2), "HTQLCL là gì")
    assert main(["kb", "unanswered", "--config", str(config_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("times,users,last_asked,normalized")
    assert lines[1].startswith("2,1,") and "thue thu nhap" in lines[1]
    assert len(lines) == 3


def test_unanswered_export_shows_plain_folded_text(config, core, capsys, config_file):
    from bot.dialog import User

    core.ask(User(1), "đăng ký xe máy ở đâu")  # "đăng ký" is a compound inside search, not a marker for curators
    assert main(["kb", "unanswered", "--config", str(config_file)]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "dang ky xe may" in row and "dang+" not in row


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    """``code`` run by a new Python process (what it imports is its own); it must exit 0."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, **kwargs)
    assert out.returncode == 0, out.stderr
    return out


def test_core_never_imports_a_chat_network():
    """bot/ is the network-free core: the terminal chat and the CLI run it without python-telegram-bot,
    the Zalo client (aiohttp) or the adapters in handlers/."""
    code = (
        "import sys, pkgutil, importlib, bot\n"
        "for m in pkgutil.iter_modules(bot.__path__): importlib.import_module('bot.' + m.name)\n"
        "from bot import config; from bot.dialog import build_core, User\n"
        "core = build_core(config.load('config.yaml'), with_storage=False)\n"
        "core.ask(User(1), 'HTQLCL là gì')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'aiohttp', 'handlers', 'tornado')))"
    )
    out = _python(code, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("cache", ["", "off"])
def test_ask_loads_neither_the_units_list_nor_the_database_library(config_file, cache):
    """`isobot ask` answers without a database or a unit: the official list of units (vietnam_provinces)
    and sqlite-utils are a good part of a cold start, so it must not import them, cache or no cache."""
    ask = f"main(['--config', {str(config_file)!r}, 'ask', '--json', 'danh gia noi bo bao lau 1 lan'])\n"
    code = (
        "import sys; from bot.cli import main\n"
        + ask
        + ask  # the second from the cache, if any
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('vietnam_provinces', 'sqlite_utils')"
        " or m in ('bot.units', 'bot.storage')), file=sys.stderr)"
    )
    out = _python(
        code,
        env={
            **os.environ,
            "ISOBOT_CACHE_DIR": cache or str(config_file.parent / "cache"),
            "ISOBOT_PROVINCE": "Lạng Sơn",
        },
    )
    assert [json.loads(line)["entry_id"] for line in out.stdout.splitlines()] == ["dgnb-tan-suat"] * 2
    assert out.stderr.strip().splitlines()[-1] == "[]"


def _broken_config(tmp_path, database: Path) -> Path:
    cfg = tmp_path / "broken.yaml"
    cfg.write_text(
        f"database: {database}\nknowledge_dir: {Path(__file__).resolve().parent.parent / 'knowledge'}\n",
        encoding="utf-8",
    )
    return cfg


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not-a-folder", "locked"])
def test_a_database_that_cannot_be_used_is_one_line_not_a_traceback(tmp_path, damage):
    import sqlite3

    from bot.storage import Storage

    db = tmp_path / "data" / "bot.sqlite3"
    holder = None
    commands = (["run"], ["admin", "list"], ["kb", "unanswered"])
    if damage == "garbage":
        db.parent.mkdir()
        db.write_bytes(b"not a database " * 500)
    elif damage == "not-a-folder":
        (tmp_path / "data").write_text("a file where the database folder should be")
    else:
        s = Storage(db)
        for i in range(3000):
            s.touch_user(i, "x" * 50)
        s.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s.close()
        if damage == "truncated":
            db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
        else:  # another program holds the database (5 s busy timeout)
            holder = sqlite3.connect(db, isolation_level=None)
            holder.execute("PRAGMA locking_mode=EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
            commands = (["admin", "list"],)
    env = dict(os.environ, ZALO_BOT_TOKEN="1:x")
    env.pop("TELEGRAM_BOT_TOKEN", None)
    try:
        for args in commands:
            out = subprocess.run(
                [str(Path(sys.executable).parent / "isobot"), *args, "--config", str(_broken_config(tmp_path, db))],
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
            )
            assert out.returncode == 1, (args, out.stderr)
            assert "Traceback" not in out.stderr and out.stderr.startswith("Lỗi: Không dùng được cơ sở dữ liệu"), (
                out.stderr
            )
    finally:
        if holder:
            holder.close()


def test_questions_are_kept_without_names_or_verbatim_text_and_purged(config, core, capsys, config_file):
    from datetime import datetime, timedelta

    from bot.dialog import User

    core.storage.touch_user(41, "Nguyễn Văn An", "an_xa")
    core.ask(User(41, "Nguyễn Văn An", "an_xa"), "Số điện thoại 0912345678 của chị Lan ở xã là gì")
    (row,) = list(core.storage.db.query("SELECT * FROM asked"))
    assert row["text"] is None and row["user_id"] is None and row["asker"]
    assert "0912345678" in row["normalized"], "the folded question is what curators read"
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat(timespec="seconds")
    core.storage.db.execute("UPDATE asked SET ts = ?", [old])
    assert main(["kb", "purge", "--older-than", "365", "--config", str(config_file)]) == 0
    assert "1 câu hỏi" in capsys.readouterr().out
    assert core.storage.unanswered() == []


def test_questions_logged_before_the_privacy_rule_are_pseudonymised(tmp_path):
    import sqlite3

    from bot.storage import Storage

    db = tmp_path / "old.sqlite3"
    Storage(db).close()
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO asked (ts, user_id, channel, text, normalized, outcome) VALUES "
        "('2026-01-01T00:00:00+00:00', 4242, 'telegram', 'Câu hỏi nguyên văn của Lan', 'cau hoi', 'decline')"
    )
    conn.commit()
    conn.close()
    (row,) = list(Storage(db).db.query("SELECT user_id, text, asker FROM asked"))
    assert row["user_id"] is None and row["text"] is None and len(row["asker"]) == 16


def test_output_cut_short_by_the_reader_is_not_an_error(config_file):
    """`isobot kb stats | head -0`: the reader is gone before the first line; no traceback, exit 0."""
    read, write = os.pipe()
    os.close(read)  # what a reader that stopped early leaves behind
    try:
        proc = subprocess.run(
            [str(ISOBOT), "kb", "stats", "--config", str(config_file)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
