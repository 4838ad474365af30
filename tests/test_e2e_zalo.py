"""End to end on Zalo: `isobot run` as a real process against ../shared/tools/zalo-emulator (its run.sh),
with only ZALO_BOT_TOKEN set; the emulator plays Zalo users who type, pick numbered options, send
stickers and photos. Every run is --strict: a failed API call, a message over 2,000 characters or a
reply_markup fails it. Needs only Python (the README's test command runs these; never skipped)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ZALO = ROOT.parent / "shared" / "tools" / "zalo-emulator"
SCENARIOS = Path(__file__).resolve().parent / "e2e"
ISOBOT = Path(sys.executable).parent / "isobot"
LINKS = Path(__file__).resolve().parent / "zalo_links.py"
TOKEN = "1234567890123456789:TEST-zalo-emulator-fake-secret"
# Zalo has no buttons: no reply may say "bấm «Lưu»", "bấm nút", "bấm một nút" (say "chọn", "gõ số")
PRESS = re.compile(r"(?<!\w)bấm (?:vào |một )?(?:«|nút)", re.IGNORECASE)

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(ZALO))
from server import user_hex_id  # noqa: E402  (the emulator's own mapping of test users to Zalo ids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def zalo_config(tmp_path) -> Path:
    """A config.yaml for the Zalo runs: the real knowledge base, a fresh database, Lạng Sơn, and the
    emulator's user 900001 as an admin by its Zalo id."""
    assert (ZALO / "run.sh").is_file(), f"missing {ZALO}: CI must have ../shared beside the clone"
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database: {tmp_path / 'bot.sqlite3'}\nknowledge_dir: {ROOT / 'knowledge'}\n"
        f"cache_dir: {tmp_path / 'cache'}\nprovince: Lạng Sơn\n"
        f"admin_ids: ['zalo:{user_hex_id(900001)}']\n",
        encoding="utf-8",
    )
    return path


def scenario_file(tmp_path: Path, steps: list, user: dict | None = None) -> Path:
    path = tmp_path / f"scenario-{time.monotonic_ns()}.json"
    path.write_text(json.dumps({"user": user or {}, "steps": steps}, ensure_ascii=False), encoding="utf-8")
    return path


def zalo_run(
    config: Path,
    scenario: Path | str,
    *extra: str,
    timeout_s: int = 150,
    bot: str | None = None,
    env: dict | None = None,
    files: bool = True,
) -> subprocess.CompletedProcess:
    """run.sh with the bot as Trợ lý ISO (Zalo only), its file endpoint on a free loopback port."""
    environment = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN")}
    environment["ZALO_EMULATOR_LOG_DIR"] = str(config.parent / f"logs-{time.monotonic_ns()}")
    if files:
        port = free_port()
        environment.update(ISOBOT_PUBLIC_URL=f"http://127.0.0.1:{port}", ISOBOT_FILES_PORT=str(port))
    environment.update(env or {})
    command = bot or f"{ISOBOT} run --config {config}"
    result = subprocess.run(
        ["bash", str(ZALO / "run.sh"), command, str(scenario), "--timeout-s", str(timeout_s), "--strict", *extra],
        capture_output=True,
        text=True,
        timeout=timeout_s + 40,
        env=environment,
    )
    print(result.stdout[-7000:], result.stderr[-3000:])
    return result


def bot_log(result: subprocess.CompletedProcess) -> str:
    """The bot's log of a run (run.sh prints where its logs are)."""
    folder = result.stdout.rsplit("logs in ", 1)[-1].strip().splitlines()[0]
    return (Path(folder) / "bot.log").read_text(errors="replace")


def passed(result: subprocess.CompletedProcess, users: int = 1) -> bool:
    """The scenario passed, and no reply in its transcript (the first user's, each cut to 600
    characters) told the user to press a button."""
    pressed = PRESS.search(result.stdout)
    assert pressed is None, f"a Zalo reply says «{pressed.group(0)}…»: Zalo has no buttons"
    return result.returncode == 0 and f"{users} passed, 0 failed" in result.stdout


def test_questions_menus_and_bad_input_on_zalo(zalo_config, tmp_path):
    """Welcome and numbered menu, a question typed without diacritics, 👍, a related option, "Ý anh/chị
    là…?", a stale number, stickers, photos, an unsupported message, a 5,000-character message, an
    unknown command, the topic browser, a guide driven by words, a form whose link downloads a .docx,
    a paged calendar."""
    out = tmp_path / "downloads"
    bot = f"{sys.executable} {LINKS} --out {out} -- {ISOBOT} run --config {zalo_config}"
    result = zalo_run(zalo_config, SCENARIOS / "zalo_qa.json", bot=bot)
    assert passed(result), "scenario failed: see the transcript above"
    assert "Traceback" not in result.stdout and "over 2000" not in result.stdout
    (form,) = json.loads((out / "links.json").read_text())
    assert form["status"] == 200 and form["url"].endswith(".docx") and form["forged"] == 403
    with zipfile.ZipFile(out / form["file"]) as docx:
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in docx.read("word/document.xml").decode()


def test_several_users_at_once_on_zalo(zalo_config):
    result = zalo_run(zalo_config, SCENARIOS / "zalo_qa.json", "--users", "5", "--quiet")
    assert passed(result, 5)


def test_checklist_resumes_after_a_restart_with_the_same_numbers(zalo_config, kb, tmp_path):
    """Register a unit by typing, start a checklist, answer by number and by word, note, pause; the bot
    process stops. A new process on the same database: the number typed next still means the option it
    meant before the restart, the run goes on at the same item, ends with scores, a chart sent with
    sendPhoto from the file endpoint (the emulator fetches it) and a report link that downloads a .docx."""
    cl = kb.checklists["san-sang-dgnb"]
    n = len(cl.items)
    first = [
        {"command": "/start"},
        {"expect": "chưa đăng ký đơn vị"},
        {"choose": "Đăng ký đơn vị"},
        {"expect": "xã/phường nào"},
        {"send": "xa Loc Binh"},
        {"expect": "Xã Lộc Bình \\(Lạng Sơn\\)"},
        {"choose": "^Xã Lộc Bình \\(Lạng Sơn\\)$"},
        {"expect": "Đã ghi nhận: anh/chị thuộc Xã Lộc Bình"},
        {"command": "/tudanhgia"},
        {"expect": "Chọn bảng kiểm"},
        {"choose": f"^{cl.title} \\("},
        {"expect": f"Câu 1/{n} ▰"},
        {"send": "đạt"},
        {"expect": f"Câu 2/{n}"},
        {"choose": "Chưa đạt"},
        {"expect": f"Câu 3/{n}"},
        {"choose": "Ghi chú câu 2"},  # right after an answer: the note is for the item just answered
        {"expect": "gõ ghi chú cho câu 2"},
        {"send": "đã có kế hoạch nhưng chưa ký"},
        {"expect": "Đã lưu ghi chú cho câu 2[\\s\\S]*Câu 3/"},
        {"choose": "Tạm dừng"},
        {"expect": f"Đã tạm dừng ở câu 3/{n}"},
        {"command": "/tudanhgia"},
        {"choose": "^▶️ Làm tiếp"},
        {"expect": f"Câu 3/{n}"},
    ]
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, first, {"display_name": "Mai"})))
    second = [
        {"send": "2", "note": "'2' = Đạt một phần on the item shown before the restart"},
        {"expect": f"Câu 4/{n}"},
    ]
    for i in range(4, n + 1):
        second += [{"send": "1"}, {"expect": f"Câu {i + 1}/{n}" if i < n else "Hoàn thành"}]
    second += [
        {"choose": "Biểu đồ"},
        {"expect_photo": "Điểm theo từng phần"},
        {"choose": "Báo cáo"},
        {"expect": "Tải tệp tu-danh-gia-san-sang-dgnb-\\d+\\.docx: http://127"},
        {"sleep_ms": 1500, "note": "the link fetcher downloads it"},
    ]
    out = tmp_path / "downloads"
    bot = f"{sys.executable} {LINKS} --out {out} -- {ISOBOT} run --config {zalo_config}"
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, second, {"display_name": "Mai"}), bot=bot))
    (link,) = json.loads((out / "links.json").read_text())
    assert link["status"] == 200 and "wordprocessingml" in link["type"]
    assert link["forged"] == 403 and link["extended"] == 403, "a tampered link is refused"
    with zipfile.ZipFile(out / link["file"]) as docx:  # a real Word file, with the note in it
        assert "đã có kế hoạch nhưng chưa ký" in docx.read("word/document.xml").decode()


def test_quiz_answered_by_letter_then_leaderboard_and_daily(zalo_config, tmp_path):
    steps = [
        {"command": "/quiz"},
        {"expect": "Chọn chủ đề"},
        {"choose": "^🔀 Trộn"},
        {"expect": "bao nhiêu câu"},
        {"choose": "^5 câu$"},
        {"expect": "Gõ chữ A, B, C[\\s\\S]*Câu 1/5 · đúng 0[\\s\\S]*\\nA\\. "},
    ]
    for i in range(2, 6):
        steps += [
            {"send": "b" if i % 2 else "B"},
            {"expect": f"^(✅ Đúng rồi!|❌ Chưa đúng\\. Đáp án đúng: [A-D]\\. )[\\s\\S]*💡[\\s\\S]*Câu {i}/5"},
        ]
    steps += [
        {"send": "đáp án c"},
        {"expect": "Kết quả: đúng \\d/5"},
        {"send": "C", "note": "a letter once the quiz is over: not an answer"},
        {"expect": "."},
        {"command": "/bangxephang"},
        {"expect": "Xếp hạng đơn vị"},
        {"command": "/hangngay"},
        {"choose": "^07:00$"},
        {"expect": "mỗi ngày lúc 07:00"},
    ]
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, steps, {"display_name": "Thảo"})))


def test_inspector_on_zalo_reminder_progress_export_and_team_quiz(zalo_config, tmp_path):
    """The admin (admin_ids: zalo:<id>) creates a reminder sent at once, which reaches them (they are a
    user too) with the delivery report; /tiendo's Excel export comes as a link; a team quiz is assigned."""
    steps = [
        {"command": "/donvi"},
        {"send": "xa Loc Binh"},
        {"choose": "^Xã Lộc Bình"},
        {"expect": "Đã ghi nhận"},
        {"command": "/start"},
        {"expect": "Tiến độ các xã[\\s\\S]*Xác nhận thành viên", "note": "the team's menu row"},
        {"command": "/nhacviec"},
        {"expect": "Nhắc việc"},
        {"choose": "Tạo nhắc việc"},
        {"expect": "gõ nội dung nhắc việc"},
        {"send": "Anh/chị vào làm bảng kiểm"},
        {"expect": "Đơn vị im lặng quá 30 ngày"},
        {"choose": "Đơn vị có việc khắc phục quá hạn"},
        {"expect": "Khi nào gửi"},
        {"choose": "Huỷ"},
        {"expect": "huỷ"},
        {"command": "/nhacviec"},
        {"choose": "Tạo nhắc việc"},
        {"expect": "gõ nội dung nhắc việc"},
        {"send": "Đề nghị các xã nộp báo cáo ISO năm nay"},
        {"expect": "Gửi cho ai"},
        {"choose": "Tất cả người dùng"},
        {"expect": "Khi nào gửi"},
        {"choose": "Gửi ngay"},
        {"expect": "Xác nhận nhắc việc"},
        {"choose": "Lưu"},
        {"expect": "Nhắc việc"},
        {
            "expect": "^Đề nghị các xã nộp báo cáo ISO năm nay\n\n— Thanh tra, Xã Lộc Bình\n\n1\\. ✅ Đã nhận",
            "within_ms": 15000,
            "note": "signed with the sender's unit",
        },
        {"expect": "Đã gửi xong «Đề nghị các xã nộp báo cáo ISO năm nay»[\\s\\S]*thành công: 1", "within_ms": 15000},
        {"command": "/tiendo"},
        {"expect": "Tiến độ Lạng Sơn: 65 xã, phường[\\s\\S]*Cần chú ý \\(1\\):\\n• Xã Lộc Bình"},
        {"choose": "^🟢 Đang hoạt động \\(1\\)$", "note": "one step to the units active lately"},
        {"expect": "đang hoạt động[\\s\\S]*Xã Lộc Bình: 1 người, chưa tự đánh giá"},
        {"choose": "^🔎 Lọc khác$"},
        {"choose": "^chưa tự đánh giá \\(1\\)$"},
        {"expect": "Xã Lộc Bình: 1 người, chưa tự đánh giá"},
        {"choose": "^🔎 Xã Lộc Bình$"},
        {"expect": "🔎 Xã Lộc Bình \\(Lạng Sơn\\)[\\s\\S]*1 đã xác nhận"},
        {"command": "/tiendo"},
        {"expect": "Tiến độ Lạng Sơn"},
        {"choose": "Excel"},
        {"expect": "Tải tệp tien-do-\\d{4}-\\d{2}-\\d{2}\\.xlsx: http://127"},
        {"command": "/quiznhom"},
        {"choose": "Giao bài mới"},
        {"expect": "Chủ đề của bài"},
        {"choose": "Trộn"},
        {"choose": "^5 câu$"},
        {"expect": "«thứ Sáu tuần sau»"},
        {"send": "thứ Sáu tuần sau"},
        {"expect": "Gõ tên các đơn vị"},
        {"send": "Lộc Bình, Xã Không Có"},
        {"expect": "Cho 1 đơn vị \\(1 người\\): Xã Lộc Bình[\\s\\S]*«Xã Không Có»"},
        {"choose": "Gửi"},
        {"expect": "Đã giao bài #1 cho 1 đơn vị \\(1 người\\)"},
        {"expect": "giao bài trắc nghiệm[\\s\\S]*— Thanh tra, Xã Lộc Bình", "within_ms": 15000},
        {"choose": "Làm bài #1"},
        {"expect": "Câu 1/5"},
        {"command": "/quyen"},
        {"expect": "Phân quyền"},
    ]
    user = {"id": 900001, "display_name": "Thanh tra"}
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, steps, user)))


def test_a_reminder_typed_as_day_and_hour_reaches_zalo_signed_and_is_acknowledged(zalo_config, tmp_path):
    """The inspector types when to send as "2/12 14h05" (the next minute at least 35 s away, on the real
    clock): the confirmation shows the next send date the Vietnamese way, the list's options say what
    they do, the reminder goes out at that minute signed with the sender's unit, «✅ Đã nhận» is option
    1, and "1" is counted in the report."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.when import vi_datetime

    at = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(seconds=95)).replace(second=0, microsecond=0)
    steps = [
        {"command": "/donvi"},
        {"send": "xa Loc Binh"},
        {"choose": "^Xã Lộc Bình"},
        {"expect": "Đã ghi nhận"},
        {"command": "/nhacviec"},
        {"expect": "Nhắc việc"},
        {"choose": "Tạo nhắc việc"},
        {"expect": "gõ nội dung"},
        {"send": "Nộp báo cáo HTQLCL năm"},
        {"expect": "Gửi cho ai"},
        {"choose": "Tất cả người dùng"},
        {"expect": "Khi nào gửi"},
        {"choose": "^Một lần"},
        {"expect": "«15/12 8h»"},
        {"send": f"{at.day}/{at.month} {at.hour}h{at.minute:02d}"},
        {"expect": f"Lần gửi tới: {vi_datetime(at)}[\\s\\S]*hiện có 1 người"},
        {"choose": "Lưu"},
        {"expect": "Tạm dừng #1"},
        {"expect": "^Nộp báo cáo HTQLCL năm\n\n— Thanh tra, Xã Lộc Bình\n\n1\\. ✅ Đã nhận", "within_ms": 110000},
        {"expect": "Đã gửi xong", "within_ms": 15000},
        {"choose": "Đã nhận", "note": "the broadcast is the latest message with options"},
        {"expect": "^Cảm ơn anh/chị"},
        {"command": "/nhacviec"},
        {"expect": "Nhắc việc"},
        {"choose": "Báo cáo #1"},
        {"expect": "✅ Đã nhận: 1 người"},
    ]
    user = {"id": 900001, "display_name": "Thanh tra"}
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, steps, user), timeout_s=200))


def test_official_cannot_use_inspector_tools_on_zalo(zalo_config, tmp_path):
    steps = [
        {"command": "/nhacviec"},
        {"expect": "chỉ dành cho thành viên đoàn kiểm tra"},
        {"send": "tiến độ"},
        {"expect": "chỉ dành cho"},
        {"command": "/capquyen zalo:abc"},
        {"expect": "chỉ dành cho quản trị viên"},
        {"send": "2"},
        {"expect": "."},
    ]
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, steps)))


def test_webhook_mode_on_zalo(zalo_config, tmp_path):
    """zalo.webhook.url set: the bot calls setWebhook with a secret; the emulator POSTs every update
    with X-Bot-Api-Secret-Token, which the bot checks."""
    port = free_port()
    env = {
        "ISOBOT_ZALO_WEBHOOK_URL": f"http://127.0.0.1:{port}/zalo/hook",
        "ISOBOT_ZALO_WEBHOOK_LISTEN": "127.0.0.1",
        "ISOBOT_ZALO_WEBHOOK_PORT": str(port),
        "ZALO_WEBHOOK_SECRET": "s3cret-webhook-token",
    }
    steps = [
        {"command": "/start"},
        {"expect": "^Xin chào"},
        {"send": "danh gia noi bo bao lau 1 lan"},
        {"expect": "Nguồn:"},
        {"send": "1"},
        {"expect": "Nguồn:"},
    ]
    result = zalo_run(zalo_config, scenario_file(tmp_path, steps), env=env)
    assert passed(result)
    assert "Zalo webhook set to" in bot_log(result), "it ran in webhook mode, not polling"
    port = free_port()
    forged = zalo_run(
        zalo_config,
        scenario_file(tmp_path, steps[:2]),
        env={
            **env,
            "ISOBOT_ZALO_WEBHOOK_URL": f"http://127.0.0.1:{port}/zalo/hook",
            "ISOBOT_ZALO_WEBHOOK_PORT": str(port),
            "ZALO_EMULATOR_WEBHOOK_SECRET_OVERRIDE": "wrong-secret",
        },
    )
    assert forged.returncode != 0 and "403" in forged.stdout, "a request without the right secret is refused"


def test_a_second_process_polling_the_same_bot_is_not_silent(zalo_config, tmp_path):
    """Two processes (two databases) polling one Zalo bot: the emulator answers 409, and the process
    that lost says so in its log at ERROR level."""
    other = tmp_path / "other.yaml"
    other.write_text(zalo_config.read_text().replace("bot.sqlite3", "other.sqlite3"), encoding="utf-8")
    log = tmp_path / "second.log"
    bot = f"{ISOBOT} run --config {zalo_config} & {ISOBOT} run --config {other} 2> {log} & wait"
    steps = [{"sleep_ms": 4000}, {"command": "/start"}, {"expect": "Xin chào", "within_ms": 15000}]
    result = zalo_run(zalo_config, scenario_file(tmp_path, steps), bot=bot, files=False)
    logs = log.read_text() + result.stdout
    assert "409" in logs and "another process is polling this bot" in logs


def test_a_second_process_on_the_same_database_is_refused(zalo_config):
    from bot import config as config_mod
    from handlers.runtime import lock_database

    held = lock_database(config_mod.load(zalo_config, env={}).database)
    try:
        env = dict(os.environ, ZALO_BOT_TOKEN=TOKEN)
        env.pop("TELEGRAM_BOT_TOKEN", None)
        result = subprocess.run(
            [str(ISOBOT), "run", "--config", str(zalo_config)], capture_output=True, text=True, timeout=60, env=env
        )
    finally:
        held.close()
    assert result.returncode == 1 and "một tiến trình isobot khác đang chạy" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_gap_becomes_a_task_closed_with_a_photo_on_zalo(zalo_config, kb, tmp_path):
    """A self-assessment on Zalo; its first gap becomes a task the official owns, due "15/12"; /viec
    lists it; she closes it with a photo (fetched from the platform's URL and kept) and a note; the
    photo comes back as evidence through the file endpoint."""
    cl = kb.checklists["san-sang-dgnb"]
    n = len(cl.items)
    steps = [
        {"command": "/donvi"},
        {"send": "xa Loc Binh"},
        {"choose": "^Xã Lộc Bình \\(Lạng Sơn\\)$"},
        {"expect": "mã tham gia"},
        {"choose": "Để sau"},
        {"expect": "Trong lúc chờ"},
        {"command": "/tudanhgia"},
        {"choose": f"^{cl.title} \\("},
        {"expect": f"Câu 1/{n} ▰"},
        {"choose": "^❌ Chưa đạt$"},
        {"expect": f"Câu 2/{n}"},
    ]
    for i in range(2, n + 1):
        steps += [{"send": "1"}, {"expect": f"Câu {i + 1}/{n}" if i < n else "Hoàn thành"}]
    steps += [
        {"choose": "Tạo việc khắc phục điểm 1"},
        {"expect": "Ai phụ trách việc này"},
        {"choose": "^👤 Tôi$"},
        {"expect": "Hạn hoàn thành"},
        {"send": "15/12"},
        {"expect": "Kiểm tra lại việc khắc phục[\\s\\S]*Hạn: 15/12/\\d{4}"},
        {"choose": "Lưu việc"},
        {"expect": "Đã lưu việc #1"},
        {"command": "/viec"},
        {"expect": "Việc khắc phục được giao \\(1\\)"},
        {"choose": "^📌 #1 "},
        {"expect": "Việc #1 · Xã Lộc Bình"},
        {"choose": "Báo đã xong"},
        {"expect": "Có ảnh làm bằng chứng thì gửi ảnh"},
        {"send_photo": ""},
        {"expect": "Đã lưu bằng chứng cho việc #1"},
        {"send": "Đã trình Chủ tịch phê duyệt chương trình năm"},
        {"expect": "Đã đóng việc #1[\\s\\S]*Bằng chứng: 1 tệp/ảnh"},
        {"choose": "Bằng chứng 1"},
        {"expect_photo": "Bằng chứng của việc #1"},
    ]
    assert passed(zalo_run(zalo_config, scenario_file(tmp_path, steps, {"display_name": "Mai"}), timeout_s=180))
