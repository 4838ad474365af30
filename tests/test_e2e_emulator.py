"""End to end: `isobot run` as a real process against the Bot API emulator in ../shared/tools/tg-emulator.

The emulator plays Telegram users over HTTP on 127.0.0.1; these tests need node and npm (the
README's test command runs them; they are never skipped).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "e2e"
ISOBOT = Path(sys.executable).parent / "isobot"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def emulator(tg_emulator) -> Path:
    return tg_emulator


def run_scenario(
    emulator: Path, config_file: Path, scenario: str, *extra: str, timeout_s: int = 120, bot_command: str | None = None
):
    bot = bot_command or f"{ISOBOT} run --config {config_file}"
    env = dict(os.environ, TG_EMULATOR_LOG_DIR=str(config_file.parent / "emulator-logs"))
    return subprocess.run(
        [
            "bash",
            str(emulator / "run.sh"),
            bot,
            str(SCENARIOS / scenario),
            "--port",
            "0",
            "--timeout-s",
            str(timeout_s),
            "--strict",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s + 30,
        env=env,
    )


def test_qa_scenario_through_emulator(emulator, config_file):
    result = run_scenario(emulator, config_file, "qa.json")
    print(result.stdout[-6000:], result.stderr[-3000:])
    assert result.returncode == 0, "scenario failed: see the transcript above"
    assert "1 passed, 0 failed" in result.stdout
    assert "traceback" not in result.stdout.lower()


def test_qa_scenario_with_several_users_at_once(emulator, config_file):
    result = run_scenario(emulator, config_file, "qa.json", "--users", "5", "--quiet")
    print(result.stdout[-4000:], result.stderr[-2000:])
    assert result.returncode == 0
    assert "5 passed, 0 failed" in result.stdout


def test_guides_forms_and_calendar_through_emulator(emulator, config_file):
    result = run_scenario(emulator, config_file, "guides.json")
    print(result.stdout[-6000:], result.stderr[-3000:])
    assert result.returncode == 0, "scenario failed: see the transcript above"
    assert "1 passed, 0 failed" in result.stdout


def test_checklist_wizard_through_emulator_with_several_users(emulator, config_file, kb, tmp_path):
    """Three users at once register a unit, run a whole checklist with pause/resume, get chart and report."""
    cl = kb.checklists["san-sang-dgnb"]
    n = len(cl.items)
    steps = [
        {"command": "/start"},
        {"expect": "chưa đăng ký đơn vị"},
        {"press": "🏢 Đăng ký đơn vị"},
        {"expect": "xã/phường nào"},
        {"send": "xa Loc Binh"},
        {"expect_buttons": "Xã Lộc Bình \\(Lạng Sơn\\)"},
        {"press": "Xã Lộc Bình (Lạng Sơn)"},
        {"expect": "Đã ghi nhận: anh/chị thuộc Xã Lộc Bình"},
        {"command": "/tudanhgia"},
        {"press": f"^{cl.title}"},
        {"expect": f"Câu 1/{n} ▰"},
        {"press": "✅ Đạt"},
        {"expect": f"Câu 2/{n}"},
        {"press": "❌ Chưa đạt"},
        {"expect": f"Câu 3/{n}"},
        {"press": "⏸ Tạm dừng"},
        {"expect": f"Đã tạm dừng ở câu 3/{n}"},
        {"press": "▶️ Làm tiếp"},
        {"expect": f"Câu 3/{n}"},
        {"send": "ok"},
        {"expect": "bấm một nút"},
        {"send": "dat 1 phan"},  # a typed answer answers the item
        {"expect": "Đã lưu câu trả lời câu 3"},
        {"press_data": "ca:999999:0:d"},
        {"expect_toast": "không còn"},
        {"command": "/tudanhgia"},
        {"press": "^▶️ Làm tiếp"},
        {"expect": f"Câu 4/{n}"},
    ]
    for i in range(4, n + 1):
        steps += [
            {"press": "✅ Đạt"},
            {"expect": f"Câu {i + 1}/{n}" if i < n else "Hoàn thành"},
        ]
    steps += [
        {"expect_buttons": "📊 Biểu đồ"},
        {"press": "📊 Biểu đồ"},
        {"expect": "^\\[photo\\]"},
        {"press": "📄 Báo cáo \\(\\.docx\\)"},
        {"expect": "^\\[document: tu-danh-gia-san-sang-dgnb-\\d+\\.docx"},
    ]
    scenario = tmp_path / "checklist.json"
    scenario.write_text(
        json.dumps({"user": {"first_name": "Mai"}, "steps": steps}, ensure_ascii=False), encoding="utf-8"
    )
    result = run_scenario(emulator, config_file, str(scenario), "--users", "3", timeout_s=180)
    print(result.stdout[-5000:], result.stderr[-2000:])
    assert result.returncode == 0
    assert "3 passed, 0 failed" in result.stdout


def test_quiz_polls_through_emulator_with_several_users(emulator, config_file):
    result = run_scenario(emulator, config_file, "quiz.json", "--users", "3")
    print(result.stdout[-5000:], result.stderr[-2000:])
    assert result.returncode == 0
    assert "3 passed, 0 failed" in result.stdout


def test_inspector_reminder_broadcast_and_export_through_emulator(emulator, config_file):
    result = run_scenario(emulator, config_file, "inspector.json")
    print(result.stdout[-5000:], result.stderr[-2000:])
    assert result.returncode == 0
    assert "1 passed, 0 failed" in result.stdout


def test_official_cannot_use_inspector_functions_through_emulator(emulator, config_file):
    result = run_scenario(emulator, config_file, "official_denied.json")
    print(result.stdout[-3000:], result.stderr[-2000:])
    assert result.returncode == 0


def test_webhook_mode_through_emulator(emulator, config_file, monkeypatch):
    """isobot run --webhook: the emulator delivers updates by HTTP with the secret token header."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ISOBOT_WEBHOOK_SECRET", "s3cret-token")
    bot = (
        f"{ISOBOT} run --config {config_file} --webhook --listen 127.0.0.1 --port {port} "
        f"--url http://127.0.0.1:{port}/tg-hook"
    )
    result = run_scenario(emulator, config_file, "qa.json", bot_command=bot)
    print(result.stdout[-4000:], result.stderr[-2000:])
    assert result.returncode == 0
    assert "1 passed, 0 failed" in result.stdout
