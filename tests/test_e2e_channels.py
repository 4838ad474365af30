"""Both channels from one process: `isobot run` with TELEGRAM_BOT_TOKEN and ZALO_BOT_TOKEN, against the
Telegram emulator (its run.sh) and the Zalo emulator at the same time (tests/two_channels.py). An
inspector on Zalo creates a reminder; it reaches a Telegram user and a Zalo user, each on their own
channel, and the inspector gets the delivery report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ISOBOT = Path(sys.executable).parent / "isobot"
ZALO = ROOT.parent / "shared" / "tools" / "zalo-emulator"
sys.path.insert(0, str(ZALO))
from server import user_hex_id  # noqa: E402

pytestmark = pytest.mark.e2e
REMINDER = "Đề nghị các xã rà soát danh mục TTHC trước 15/12"
SIGNED = f"{REMINDER}\n\n— Thanh tra, đoàn kiểm tra"  # the inspector's name; no unit registered
ON_ZALO = f"^{SIGNED}\n\n1\\. ✅ Đã nhận"  # «Đã nhận» as option 1


def write(path: Path, steps: list, user: dict) -> Path:
    path.write_text(json.dumps({"user": user, "steps": steps}, ensure_ascii=False), encoding="utf-8")
    return path


def run_both(tg_emulator: Path, tmp_path: Path, config: Path, telegram_scenario: Path, zalo: list[Path]):
    """`isobot run` with both tokens under tests/two_channels.py (one Zalo scenario per path in
    ``zalo``, its transcripts in tmp_path/zalo) inside the Telegram emulator's run.sh; the result and
    the transcripts' folder."""
    out = tmp_path / "zalo"
    scenarios = " ".join(f"--zalo {z}" for z in zalo)
    two = ROOT / "tests" / "two_channels.py"
    bot = f"{sys.executable} {two} --out {out} {scenarios} -- {ISOBOT} run --config {config}"
    env = dict(os.environ, TG_EMULATOR_LOG_DIR=str(tmp_path / "tg-logs"))
    env.pop("ZALO_BOT_TOKEN", None)
    result = subprocess.run(
        [
            "bash",
            str(tg_emulator / "run.sh"),
            bot,
            str(telegram_scenario),
            "--port",
            "0",
            "--timeout-s",
            "150",
            "--strict",
        ],
        capture_output=True,
        text=True,
        timeout=200,
        env=env,
    )
    print(result.stdout[-5000:], result.stderr[-2000:])
    for i in range(len(zalo)):
        print((out / f"zalo-{i}.txt").read_text()[-4000:])
    return result, out


def two_channel_config(tmp_path: Path, admin: int) -> Path:
    """A config for both channels in Lạng Sơn, the Zalo user ``admin`` as admin."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {tmp_path / 'bot.sqlite3'}\nknowledge_dir: {ROOT / 'knowledge'}\n"
        f"cache_dir: {tmp_path / 'cache'}\nprovince: Lạng Sơn\n"
        f"admin_ids: ['zalo:{user_hex_id(admin)}']\n",
        encoding="utf-8",
    )
    return config


def test_a_reminder_reaches_zalo_and_telegram_users_from_one_process(tg_emulator, tmp_path):
    inspector = 900001
    config = two_channel_config(tmp_path, inspector)
    wait = {"within_ms": 40000}
    telegram_user = write(
        tmp_path / "telegram.json",
        [
            {"command": "/start"},
            {"expect": "^Xin chào Hà"},
            {"expect": f"^{SIGNED}$", **wait, "note": "sent by the inspector on Zalo"},
            {"expect_buttons": "^✅ Đã nhận$"},
            {"press": "✅ Đã nhận"},
            {"expect_toast": "Cảm ơn anh/chị"},
            {"sleep_ms": 3000, "note": "time for the Zalo users to finish"},
        ],
        {"first_name": "Hà"},
    )
    zalo_user = write(
        tmp_path / "zalo-user.json",
        [{"command": "/start"}, {"expect": "^Xin chào Minh"}, {"expect": ON_ZALO, **wait}],
        {"id": 100001, "display_name": "Minh"},
    )
    zalo_inspector = write(
        tmp_path / "zalo-inspector.json",
        [
            {"sleep_ms": 4000, "note": "the two users have written to the bot by now"},
            {"command": "/nhacviec"},
            {"expect": "Nhắc việc"},
            {"choose": "Tạo nhắc việc"},
            {"send": REMINDER},
            {"expect": "Gửi cho ai"},
            {"choose": "Tất cả người dùng"},
            {"choose": "Gửi ngay"},
            {"expect": "Xác nhận nhắc việc[\\s\\S]*hiện có 3 người"},
            {"choose": "Lưu"},
            {"expect": ON_ZALO, **wait},
            {"expect": "Đã gửi xong[\\s\\S]*Tổng: 3 · thành công: 3", **wait},
        ],
        {"id": inspector, "display_name": "Thanh tra"},
    )
    result, out = run_both(tg_emulator, tmp_path, config, telegram_user, [zalo_user, zalo_inspector])
    assert result.returncode == 0 and "1 passed, 0 failed" in result.stdout, "the Telegram user got it"
    assert (out / "zalo-0.status").read_text() == "0", "the Zalo user got it"
    assert (out / "zalo-1.status").read_text() == "0", "the inspector on Zalo made it and got the report"
    from bot.storage import Storage

    storage = Storage(tmp_path / "bot.sqlite3")
    channels = sorted(r["channel"] for r in storage.db.query("SELECT channel FROM deliveries"))
    assert channels == ["telegram", "zalo", "zalo"], "each delivery went out on the recipient's channel"
    acked = [r["channel"] for r in storage.db.query("SELECT channel FROM deliveries WHERE acked IS NOT NULL")]
    assert acked == ["telegram"], "the Telegram user's «Đã nhận» reached the Zalo inspector's broadcast"


def test_an_inspector_on_zalo_confirms_a_telegram_official_who_is_told(tg_emulator, tmp_path):
    """A Telegram official registers for Xã Lộc Bình, types a wrong join code, waits; the inspector on
    Zalo sees them in /thanhvien and confirms by number; the official is told on Telegram, and /toi
    says so."""
    inspector = 900001
    config = two_channel_config(tmp_path, inspector)
    wait = {"within_ms": 40000}
    official = write(
        tmp_path / "telegram.json",
        [
            {"command": "/donvi"},
            {"send": "xa loc binh"},
            {"press": "Xã Lộc Bình (Lạng Sơn)"},
            {"expect": "gõ mã tham gia của đơn vị \\(8 chữ số"},
            {"send": "1234 5678"},
            {"expect": "Mã chưa đúng"},
            {"press": "Để sau"},
            {"expect": "Trong lúc chờ Sở KH&CN xác nhận"},
            {"expect": "Sở KH&CN đã xác nhận anh/chị là thành viên của Xã Lộc Bình", **wait},
            {"command": "/toi"},
            {"expect": "Xã Lộc Bình \\(Lạng Sơn\\) — đã xác nhận"},
        ],
        {"first_name": "Hà"},
    )
    zalo_inspector = write(
        tmp_path / "zalo-inspector.json",
        [
            {"sleep_ms": 6000, "note": "the official has registered by now"},
            {"command": "/thanhvien"},
            {"expect": "Chờ xác nhận thành viên \\(1\\)[\\s\\S]*• Hà \\(@tester\\) · Telegram · Xã Lộc Bình"},
            {"choose": "^✅ Hà – Xã Lộc Bình$"},
            {"expect": "Đã xác nhận Hà là thành viên của Xã Lộc Bình"},
        ],
        {"id": inspector, "display_name": "Thanh tra"},
    )
    result, out = run_both(tg_emulator, tmp_path, config, official, [zalo_inspector])
    assert result.returncode == 0 and "1 passed, 0 failed" in result.stdout, "the official was told on Telegram"
    assert (out / "zalo-0.status").read_text() == "0", "the inspector confirmed on Zalo"
