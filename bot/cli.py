"""The ``isobot`` command line: a thin layer over the core.

Examples::

    isobot ask "đánh giá nội bộ bao lâu 1 lần"
    isobot ask --json "htqlcl la gi"
    printf 'ddanhs gias noi bo\\nthoi tiet mai\\n' | isobot ask --json -
    isobot chat
    isobot kb check && isobot kb stats
    isobot kb overlap --top 20
    isobot kb unanswered --out unanswered.csv
    TELEGRAM_BOT_TOKEN=... ZALO_BOT_TOKEN=... isobot run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot import config as config_mod
from bot.config import Config, ConfigError
from bot.yamlcheck import KnowledgeError

EXIT_USAGE = 2


def _out(text: str = "", stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(text + "\n")
    stream.flush()


def render_plain(reply) -> str:
    """A Reply as terminal text for ``isobot ask`` (no options)."""
    return reply.text


def _config(args: argparse.Namespace) -> Config:
    return config_mod.load(args.config)


# ---------------------------------------------------------------------- commands


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per stdin line with ``-``."""
    from bot.dialog import User, build_core

    core = build_core(_config(args), with_storage=False)
    questions = args.question
    if questions == ["-"]:
        for line in sys.stdin:
            line = line.rstrip("\n")
            if args.json:
                _out(json.dumps(core.answer_json(line), ensure_ascii=False))
            else:
                _out(render_plain(core.ask(User(0, channel="cli"), line)) + "\n")
        return 0
    question = " ".join(questions)
    if args.json:
        _out(json.dumps(core.answer_json(question), ensure_ascii=False))
    else:
        _out(render_plain(core.ask(User(0, channel="cli"), question)))
    return 0


def cmd_chat(args: argparse.Namespace, stdin=None, stdout=None) -> int:
    """The conversation in the terminal, as on Zalo: options are numbered, files are saved to disk."""
    from bot.dialog import build_core
    from bot.textui import TextUI

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    core = build_core(_config(args))
    folder = Path(core.storage.path).parent / "files"

    def save(attachment) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / attachment.file_name
        path.write_bytes(attachment.data)
        return str(path)

    ui = TextUI(core, "cli", publish=save, limit=100_000, photos=False, link_key="file_saved")
    account = os.environ.get("ISOBOT_CHAT_USER_ID", "1")
    user = core.identify("cli", account, os.environ.get("USER", "") or "")
    _out(core.kb.text("chat_intro"), stdout)
    outs = ui.render(user, core.command(user, "start"))
    while True:
        for out in outs:
            _out("\n" + out.text, stdout)
        stdout.write("\n> ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            _out("\n" + core.kb.text("chat_bye"), stdout)
            return 0
        line = line.strip()
        if line in ("/thoat", "/quit", "/exit"):
            _out(core.kb.text("chat_bye"), stdout)
            return 0
        user = core.identify("cli", account, user.first_name)
        outs = ui.handle(user, line)


def cmd_run(args: argparse.Namespace) -> int:
    """Run every channel whose token is set (Telegram, Zalo) in one process."""
    cfg = _config(args)
    if not cfg.token and not cfg.zalo.token:
        _out(
            "Lỗi: chưa đặt TELEGRAM_BOT_TOKEN (token từ @BotFather) hoặc ZALO_BOT_TOKEN (token từ Zalo Bot "
            "Manager). Không có token thì dùng: isobot chat",
            sys.stderr,
        )
        return EXIT_USAGE
    from handlers.runtime import run  # the chat networks are imported only here

    webhook = None
    if args.webhook:
        url = args.url or cfg.webhook_url
        if not cfg.token:
            _out(
                "Lỗi: --webhook là chế độ của Telegram (cần TELEGRAM_BOT_TOKEN); webhook Zalo đặt bằng "
                "zalo.webhook.url trong config.yaml.",
                sys.stderr,
            )
            return EXIT_USAGE
        if not url:
            _out("Lỗi: chế độ webhook cần địa chỉ công khai: --url https://… hoặc ISOBOT_WEBHOOK_URL.", sys.stderr)
            return EXIT_USAGE
        secret = cfg.webhook_secret
        if not secret:
            _out("Cảnh báo: chưa đặt ISOBOT_WEBHOOK_SECRET; nên đặt để Telegram ký mọi yêu cầu webhook.", sys.stderr)
        webhook = (args.listen or cfg.webhook_listen, args.port or cfg.webhook_port, url, secret)
    return run(cfg, webhook)


def cmd_form(args: argparse.Namespace) -> int:
    """Write one form as .docx: isobot form bien-ban-xxld --out bien-ban.docx [--unit "UBND xã A"]."""
    from bot import forms
    from bot.dialog import build_core

    core = build_core(_config(args), with_storage=False)
    if args.name not in core.kb.forms:
        _out(f"Lỗi: không có biểu mẫu '{args.name}'. Có: {', '.join(sorted(core.kb.forms))}", sys.stderr)
        return 1
    data = forms.render(core.kb, args.name, unit=args.unit or "", year=args.year or core.today().year)
    out = Path(args.out or forms.file_name(core.kb.forms[args.name]))
    out.write_bytes(data)
    _out(f"Đã ghi {out} ({len(data):,} byte)")
    return 0


def cmd_checklist_report(args: argparse.Namespace) -> int:
    """Write the .docx report of a finished self-assessment run: isobot checklist report 12 --out r.docx."""
    from bot.dialog import build_core

    core = build_core(_config(args))
    run = core.storage.get_run(args.run_id)
    if run is None or run["status"] != "done":
        _out(f"Lỗi: không có lượt tự đánh giá đã hoàn thành với mã {args.run_id}.", sys.stderr)
        return 1
    user = core.storage.get_user(run["user_id"]) or {}
    data, name = core.checklists.report_bytes(run, user.get("first_name") or "")
    out = Path(args.out or name)
    out.write_bytes(data)
    _out(f"Đã ghi {out} ({len(data):,} byte)")
    return 0


def cmd_admin(args: argparse.Namespace) -> int:
    """Manage the inspector role from the server: isobot admin grant 123456789 | zalo:<id> (audit-logged as 'cli')."""
    from bot.roles import account_key
    from bot.storage import Storage

    storage = Storage(_config(args).database)
    if args.action in ("grant", "revoke"):
        key = account_key(args.user_id) if args.user_id else None
        if key is None:
            usage = "Dùng: isobot admin grant|revoke USER_ID"
            _out(f"{usage} (số Telegram, zalo:<mã>, hoặc cli:1 cho cửa sổ dòng lệnh — xem bằng /toi)", sys.stderr)
            return EXIT_USAGE
        channel, account = key.split(":", 1)
        person = storage.person_for(channel, account) if args.action == "grant" else storage.person_of(channel, account)
        if person is not None:
            storage.set_role(person, "inspector" if args.action == "grant" else "official")
        storage.audit(0, f"role.{args.action}", args.user_id, "cli")
        _out(f"Đã {'cấp' if args.action == 'grant' else 'thu hồi'} quyền đoàn kiểm tra: {args.user_id}")
    elif args.action == "list":
        for u in storage.users_with_role("inspector"):
            keys = ", ".join(f"{a['channel']}:{a['account']}" for a in storage.accounts_of(u["id"]))
            _out(f"{keys}\t{u['first_name']}\t{u['username']}")
    else:
        for e in storage.audit_entries():
            _out(f"{e['ts']}\t{e['actor']}\t{e['action']}\t{e['target']}\t{e['detail'] or ''}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Unit progress for the inspection team as .xlsx or .csv (by the file extension)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot import loader, progress, units
    from bot.roles import account_key, split_key
    from bot.storage import Storage

    cfg = _config(args)
    kb = loader.load(cfg.knowledge_dir)
    tz = ZoneInfo(cfg.timezone)
    province = units.find_province(cfg.province) if cfg.province else None
    storage = Storage(cfg.database)
    team = [u["id"] for u in storage.users_with_role("inspector")]
    team += [p for k in cfg.admin_ids if (key := account_key(k)) and (p := storage.person_of(*split_key(key)))]
    rows = progress.rows(
        storage,
        kb,
        args.filter,
        province.code if province else None,
        tz=tz,
        today=datetime.now(tz).date(),
        team=frozenset(team),
    )
    out = Path(args.out)
    data = progress.to_csv(kb, rows) if out.suffix.lower() == ".csv" else progress.to_xlsx(kb, rows)
    out.write_bytes(data)
    _out(f"Đã ghi {out}: {len(rows)} đơn vị")
    return 0


def cmd_kb_check(args: argparse.Namespace) -> int:
    from bot import loader

    cfg = _config(args)
    kb, problems = loader.load_with_problems(cfg.knowledge_dir)
    for p in problems:
        _out(str(p), sys.stderr)
    if problems:
        _out(f"{len(problems)} lỗi trong {cfg.knowledge_dir}", sys.stderr)
        return 1
    _out(
        f"OK: {len(kb.entries)} mục, {len(kb.topics)} chủ đề, {len(kb.glossary)} thuật ngữ, "
        f"{len(kb.documents)} tài liệu nguồn, {len(kb.guides)} hướng dẫn, {len(kb.forms)} biểu mẫu, "
        f"{len(kb.calendar)} mốc lịch, {len(kb.checklists)} bảng kiểm "
        f"({sum(len(c.items) for c in kb.checklists.values())} câu), {len(kb.quizzes)} câu trắc nghiệm, "
        f"{len(kb.out_of_scope)} nhóm ngoài phạm vi"
    )
    return 0


def cmd_kb_stats(args: argparse.Namespace) -> int:
    from bot import loader

    kb = loader.load(_config(args).knowledge_dir)
    for tid, title, n in loader.stats(kb):
        _out(f"{n:4d}  {tid:20s} {title}")
    _out(f"{len(kb.entries):4d}  tổng cộng")
    return 0


def cmd_kb_overlap(args: argparse.Namespace) -> int:
    from bot import loader
    from bot.overlap import overlap

    cfg = _config(args)
    report = overlap(loader.load(cfg.knowledge_dir), cfg.search)
    _out(
        f"Hỏi lại {report.asked} câu hỏi mẫu, mỗi câu đã bỏ khỏi chỉ mục: {report.correct} "
        f"({report.accuracy:.1f}%) về đúng mục của nó."
    )
    if report.confusions:
        _out("Các cặp mục bị nhầm nhiều nhất (câu mẫu của mục bên trái ra mục bên phải):")
    for c in report.confusions[: args.top]:
        _out(f"{len(c.phrasings):3d}  {c.owner} → {c.winner}   «{c.phrasings[0]}»")
    return 0


def cmd_kb_unanswered(args: argparse.Namespace) -> int:
    from bot.storage import Storage, to_csv

    storage = Storage(_config(args).database)
    columns = ["times", "users", "last_asked", "normalized", "best_entry", "best_score", "outcomes"]
    text = to_csv(storage.unanswered(), columns)
    return _write(text, args.out)


def cmd_kb_purge(args: argparse.Namespace) -> int:
    """Forget questions, shown answers and chat menus older than --older-than DAYS (votes stay, anonymous)."""
    from bot.storage import Storage

    counts = Storage(_config(args).database).purge_before(args.older_than)
    _out(
        f"Đã xoá dữ liệu cũ hơn {args.older_than:g} ngày: {counts['asked']} câu hỏi, {counts['shown']} lượt xem "
        f"câu trả lời, {counts['screens']} menu Zalo; {counts['feedback']} lượt 👍/👎 được ẩn danh."
    )
    return 0


def cmd_kb_feedback(args: argparse.Namespace) -> int:
    from bot.storage import Storage, to_csv

    storage = Storage(_config(args).database)
    return _write(to_csv(storage.feedback_summary(), ["entry_id", "up", "down", "last_vote"]), args.out)


def _write(text: str, out: str | None) -> int:
    if out:
        Path(out).write_text(text, encoding="utf-8")
        _out(f"Đã ghi {out}", sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", default=argparse.SUPPRESS, metavar="PATH", help="tệp cấu hình (mặc định ./config.yaml)"
    )
    parser = argparse.ArgumentParser(
        prog="isobot", description="Trợ lý ISO: hỏi–đáp TCVN ISO 9001:2015", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser(
        "ask",
        parents=[common],
        help="trả lời một câu hỏi",
        description='isobot ask "câu hỏi" | isobot ask --json - (mỗi dòng một câu)',
    )
    ask.add_argument("--json", action="store_true", help="in một đối tượng JSON mỗi câu")
    ask.add_argument("question", nargs="+", help='câu hỏi, hoặc "-" để đọc từ stdin')
    ask.set_defaults(func=cmd_ask)

    sub.add_parser("chat", parents=[common], help="trò chuyện trong cửa sổ dòng lệnh").set_defaults(func=cmd_chat)
    run = sub.add_parser(
        "run",
        parents=[common],
        help="chạy bot trên Telegram và/hoặc Zalo (theo token đã đặt)",
        description="isobot run (long polling) | isobot run --webhook --url https://bot.example.vn/tg",
    )
    run.add_argument("--webhook", action="store_true", help="nhận cập nhật qua webhook thay vì long polling")
    run.add_argument("--listen", help="địa chỉ lắng nghe (mặc định telegram.webhook.listen)")
    run.add_argument("--port", type=int, help="cổng (mặc định telegram.webhook.port)")
    run.add_argument("--url", help="địa chỉ công khai Telegram gửi tới (mặc định telegram.webhook.url)")
    run.set_defaults(func=cmd_run)

    adm = sub.add_parser("admin", parents=[common], help="phân quyền: grant/revoke USER_ID, list, log")
    adm.add_argument("action", choices=["grant", "revoke", "list", "log"])
    adm.add_argument("user_id", nargs="?", help="số Telegram, zalo:<mã>, hoặc cli:1 cho isobot chat (xem bằng /toi)")
    adm.set_defaults(func=cmd_admin)

    rep = sub.add_parser(
        "report",
        parents=[common],
        help="xuất tiến độ các đơn vị (.xlsx hoặc .csv)",
        description="isobot report --out tien-do.xlsx [--filter all|unregistered|not-started|below|overdue]",
    )
    rep.add_argument("--out", required=True, metavar="FILE")
    rep.add_argument(
        "--filter", default="all", choices=["all", "unregistered", "not-started", "below", "overdue", "agencies"]
    )
    rep.set_defaults(func=cmd_report)

    form = sub.add_parser(
        "form",
        parents=[common],
        help="tạo biểu mẫu .docx",
        description="isobot form bien-ban-xxld --out bien-ban.docx --unit 'UBND xã Lộc Bình'",
    )
    form.add_argument("name", help="mã biểu mẫu, ví dụ bien-ban-xxld")
    form.add_argument("--out", metavar="FILE")
    form.add_argument("--unit", help="tên đơn vị điền vào đầu văn bản")
    form.add_argument("--year", type=int)
    form.set_defaults(func=cmd_form)

    cl = sub.add_parser("checklist", parents=[common], help="bảng kiểm tự đánh giá: report")
    cl_sub = cl.add_subparsers(dest="checklist_command", metavar="ACTION")
    rep = cl_sub.add_parser(
        "report",
        parents=[common],
        help="ghi báo cáo .docx của một lượt tự đánh giá",
        description="isobot checklist report RUN_ID --out bao-cao.docx",
    )
    rep.add_argument("run_id", type=int)
    rep.add_argument("--out", metavar="FILE")
    rep.set_defaults(func=cmd_checklist_report)

    kb = sub.add_parser("kb", parents=[common], help="kho kiến thức: check, stats, overlap, unanswered, feedback")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION")
    kb_sub.add_parser("check", parents=[common], help="kiểm tra toàn bộ nội dung YAML").set_defaults(func=cmd_kb_check)
    kb_sub.add_parser("stats", parents=[common], help="số mục theo chủ đề").set_defaults(func=cmd_kb_stats)
    ov = kb_sub.add_parser("overlap", parents=[common], help="các mục bị tìm kiếm nhầm với nhau (bỏ-một-câu-mẫu)")
    ov.add_argument("--top", type=int, default=40, metavar="N", help="số dòng in ra (mặc định 40)")
    ov.set_defaults(func=cmd_kb_overlap)
    un = kb_sub.add_parser("unanswered", parents=[common], help="câu hỏi chưa trả lời được (CSV)")
    un.add_argument("--out", metavar="FILE")
    un.set_defaults(func=cmd_kb_unanswered)
    pu = kb_sub.add_parser(
        "purge",
        parents=[common],
        help="xoá câu hỏi, lượt xem cũ (giữ thống kê 👍/👎 ẩn danh)",
        description="isobot kb purge --older-than 365",
    )
    pu.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    pu.set_defaults(func=cmd_kb_purge)
    fb = kb_sub.add_parser("feedback", parents=[common], help="góp ý 👍/👎 theo mục (CSV)")
    fb.add_argument("--out", metavar="FILE")
    fb.set_defaults(func=cmd_kb_feedback)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "config", None):
        args.config = None
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader stopped early (`isobot kb overlap | head`): not an error; stdout goes nowhere now,
        # so that Python's flush at exit does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConfigError, KnowledgeError) as exc:
        _out(f"Lỗi: {exc}", sys.stderr)
        return 1
    except Exception as exc:  # a database that cannot be used is one line, not a traceback
        from bot.storage import StorageError  # imported only here: `isobot ask` never loads sqlite-utils

        if not isinstance(exc, StorageError):
            raise
        _out(f"Lỗi: {exc}", sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
