"""End to end: `isobot run` as a real process against the Bot API emulator in ../shared/tools/tg-emulator.

The emulator plays Telegram users over HTTP on 127.0.0.1; these tests need node and npm (the
README's test command runs them; they are never skipped).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_EMULATOR = ROOT.parent / "shared" / "tools" / "tg-emulator"
EMULATOR = ROOT / ".cache" / "tg-emulator"
SCENARIOS = Path(__file__).resolve().parent / "e2e"
ISOBOT = Path(sys.executable).parent / "isobot"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def emulator() -> Path:
    """A writable copy of the emulator with its node packages (the shared copy may be read-only)."""
    assert SHARED_EMULATOR.is_dir(), f"missing {SHARED_EMULATOR}: CI must have ../shared beside the clone"
    assert shutil.which("node") and shutil.which("npm"), "end-to-end tests need node and npm"
    if not (EMULATOR / "node_modules" / "telegram-test-api").is_dir():
        shutil.rmtree(EMULATOR, ignore_errors=True)
        shutil.copytree(SHARED_EMULATOR, EMULATOR, ignore=shutil.ignore_patterns("node_modules"))
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=EMULATOR, check=True,
                       timeout=300)
    return EMULATOR


def run_scenario(emulator: Path, config_file: Path, scenario: str, *extra: str, timeout_s: int = 120):
    bot = f"{ISOBOT} run --config {config_file}"
    env = dict(os.environ, TG_EMULATOR_LOG_DIR=str(config_file.parent / "emulator-logs"))
    return subprocess.run(
        ["bash", str(emulator / "run.sh"), bot, str(SCENARIOS / scenario), "--port", "0",
         "--timeout-s", str(timeout_s), "--strict", *extra],
        capture_output=True, text=True, timeout=timeout_s + 30, env=env,
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
