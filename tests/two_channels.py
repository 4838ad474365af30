"""Run Trợ lý ISO on Telegram and Zalo at once, in one process, for tests/test_e2e_channels.py.

Used as the bot command of the Telegram emulator's run.sh (which sets TELEGRAM_BOT_TOKEN and
TELEGRAM_API_BASE_URL): starts the Zalo emulator, then the bot with both tokens, then one Zalo
driver per given scenario at the same time; each driver's exit status and output go to ``--out``.

    python tests/two_channels.py --out DIR --zalo A.json --zalo B.json -- isobot run --config X
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ZALO = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "zalo-emulator"
TOKEN = "1234567890123456789:TEST-zalo-emulator-fake-secret"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--zalo", action="append", default=[], help="a Zalo scenario (one driver each)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    log = (out / "zalo-emulator.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(ZALO / "server.py")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, ZALO_EMULATOR_PORT="0", ZALO_EMULATOR_TOKENS=TOKEN),
    )
    url = ""
    for _ in range(200):
        text = (out / "zalo-emulator.log").read_text()
        if "READY " in text:
            url = text.split("READY ", 1)[1].split()[0]
            break
        time.sleep(0.05)
    env = dict(os.environ, ZALO_BOT_TOKEN=TOKEN, ZALO_API_BASE_URL=url)
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    bot = subprocess.Popen(command, env=env)
    drivers = [
        subprocess.Popen(
            [
                sys.executable,
                str(ZALO / "drive.py"),
                scenario,
                "--url",
                url,
                "--token",
                TOKEN,
                "--bot-wait-ms",
                "60000",
                "--strict",
            ],
            stdout=(out / f"zalo-{i}.txt").open("w"),
            stderr=subprocess.STDOUT,
        )
        for i, scenario in enumerate(a.zalo)
    ]
    for i, driver in enumerate(drivers):
        (out / f"zalo-{i}.status").write_text(str(driver.wait()))
    try:
        return bot.wait()
    finally:
        server.terminate()


if __name__ == "__main__":
    sys.exit(main())
