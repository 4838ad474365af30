"""Run the bot command given after ``--`` and, while it runs, download every file link the bot sends
through the Zalo emulator, as a phone would (used by tests/test_e2e_zalo.py as run.sh's bot command).

For each link it saves the file and records the HTTP status of the link as sent, of the same link
with its signature altered, and of the same link with its expiry moved (both must be refused), in
``<out>/links.json``.

    python tests/zalo_links.py --out DIR -- isobot run --config config.yaml
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

LINK = re.compile(r"https?://127\.0\.0\.1:\d+/\S*?/f/[^\s)»]+|https?://127\.0\.0\.1:\d+/f/[^\s)»]+")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def status_of(url: str) -> tuple[int, bytes, str]:
    try:
        with OPENER.open(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers.get("Content-Type", "")


def watch(base: str, token: str, out: Path) -> None:
    since, seen, records = 0, set(), []
    while True:
        body = json.dumps({"token": token, "since": since, "timeout_ms": 20000}).encode()
        req = urllib.request.Request(f"{base}/harness/events", data=body, headers={"Content-Type": "application/json"})
        try:
            with OPENER.open(req, timeout=30) as r:
                result = json.loads(r.read())["result"]
        except OSError:
            continue
        since = result.get("seq", since)
        for ev in result.get("events", []):
            for url in LINK.findall(ev.get("text") or "") if ev.get("type") == "message" else []:
                if url in seen:
                    continue
                seen.add(url)
                status, data, ctype = status_of(url)
                name = url.rsplit("/", 1)[-1]
                (out / f"{len(records)}-{name}").write_bytes(data)
                head, token_, expires, signature, file = url.rsplit("/", 4)
                forged = f"{head}/{token_}/{expires}/{signature[:-1]}{'0' if signature[-1] != '0' else '1'}/{file}"
                extended = f"{head}/{token_}/{int(expires) + 3600}/{signature}/{file}"
                records.append(
                    {
                        "url": url,
                        "status": status,
                        "type": ctype,
                        "file": f"{len(records)}-{name}",
                        "forged": status_of(forged)[0],
                        "extended": status_of(extended)[0],
                    }
                )
                (out / "links.json").write_text(json.dumps(records, indent=1), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    threading.Thread(
        target=watch, args=(os.environ["ZALO_API_BASE_URL"], os.environ["ZALO_BOT_TOKEN"], out), daemon=True
    ).start()
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
