"""SQLite storage: the one module that owns the schema and every query (via sqlite-utils)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import sqlite3
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlite_utils

from bot.text import safe_cell

SCHEMA = {
    "users": {
        "id": int,
        "first_name": str,
        "username": str,
        "first_seen": str,
        "last_seen": str,
        "active": int,
        "unit_id": int,
        "role": str,
        "unit_status": str,
        "unit_since": str,
        "confirmed_by": int,
    },
    # how a person is reached: one row per channel account (a person who linked Zalo and Telegram has two)
    "accounts": {
        "id": int,
        "user_id": int,
        "channel": str,
        "account": str,
        "name": str,
        "username": str,
        "first_seen": str,
        "last_seen": str,
        "active": int,
    },
    # the numbered options last shown in a chat without buttons (Zalo, the terminal): "2" means option 2
    "screens": {"id": int, "channel": str, "account": str, "data": str, "updated": str},
    # generated files served at signed links (forms, reports, charts, exports for Zalo)
    "files": {"id": int, "token": str, "name": str, "mime": str, "data": bytes, "created": str, "expires": str},
    "settings": {"id": int, "key": str, "value": str},
    "link_codes": {"id": int, "code": str, "user_id": int, "expires": str, "used": int},
    "link_attempts": {"id": int, "user_id": int, "ts": str, "kind": str},
    "units": {
        "id": int,
        "kind": str,
        "name": str,
        "ward_code": int,
        "province_code": int,
        "province_name": str,
        "created": str,
    },
    "user_state": {"id": int, "user_id": int, "state": str, "data": str, "updated": str},
    "runs": {
        "id": int,
        "user_id": int,
        "unit_id": int,
        "checklist_id": str,
        "status": str,
        "position": int,
        "started": str,
        "finished": str,
        "score": float,
        "confirmed": int,
    },
    "answers": {"id": int, "run_id": int, "item_id": str, "answer": str, "note": str, "updated": str},
    "quiz_sessions": {
        "id": int,
        "user_id": int,
        "unit_id": int,
        "topic": str,
        "questions": str,
        "position": int,
        "correct": int,
        "status": str,
        "score": float,
        "assignment_id": int,
        "started": str,
        "finished": str,
        "confirmed": int,
    },
    "quiz_answers": {
        "id": int,
        "session_id": int,
        "idx": int,
        "quiz_id": str,
        "chosen": int,
        "correct": int,
        "ts": str,
    },
    "polls": {"id": int, "poll_id": str, "session_id": int, "idx": int},
    "srs": {"id": int, "user_id": int, "quiz_id": str, "box": int, "due": str, "updated": str},
    "daily": {"id": int, "user_id": int, "time": str, "active": int, "updated": str},
    "quiz_assignments": {
        "id": int,
        "created_by": int,
        "topic": str,
        "length": int,
        "deadline": str,
        "unit_ids": str,
        "created": str,
    },
    "audit_log": {"id": int, "ts": str, "actor": int, "action": str, "target": str, "detail": str},
    "reminders": {
        "id": int,
        "created_by": int,
        "text": str,
        "target": str,
        "target_arg": str,
        "kind": str,
        "at": str,
        "weekday": int,
        "monthday": int,
        "time": str,
        "event": str,
        "days_before": int,
        "status": str,
        "next_run": str,
        "last_run": str,
        "created": str,
    },
    "broadcasts": {
        "id": int,
        "reminder_id": int,
        "occurrence": str,
        "created_by": int,
        "text": str,
        "status": str,
        "total": int,
        "sent": int,
        "failed": int,
        "blocked": int,
        "unknown": int,
        "late": int,
        "started": str,
        "finished": str,
        "links": str,
    },  # JSON [[label, callback data], …]: the buttons to the item it is about
    "deliveries": {
        "id": int,
        "broadcast_id": int,
        "user_id": int,
        "status": str,
        "attempts": int,
        "error": str,
        "ts": str,
        "channel": str,
        "acked": str,
    },  # when the recipient pressed «Đã nhận»
    # questions for the curators' loop: the folded question, what search decided, when, and a
    # pseudonym of who asked (a keyed hash: counts distinct askers, names nobody); no verbatim text
    "asked": {
        "id": int,
        "ts": str,
        "user_id": int,
        "channel": str,
        "text": str,
        "normalized": str,
        "outcome": str,
        "entry_id": str,
        "score": float,
        "asker": str,
    },
    "shown": {"id": int, "ts": str, "user_id": int, "entry_id": str, "asked_id": int, "via": str},
    "feedback": {"id": int, "ts": str, "user_id": int, "shown_id": int, "entry_id": str, "vote": int},
    "guide_progress": {"id": int, "user_id": int, "guide_id": str, "step": int, "done": int, "updated": str},
    # follow-up actions: a gap of a self-assessment or a finding of an inspection / internal audit,
    # turned into what to do, who does it and by when (bot/followups.py)
    "tasks": {
        "id": int,
        "unit_id": int,
        "created_by": int,
        "owner_id": int,
        "source": str,
        "run_id": int,
        "checklist_id": str,
        "item_id": str,
        "finding": str,
        "what": str,
        "due": str,
        "status": str,
        "note": str,
        "created": str,
        "closed": str,
        "closed_by": int,
        "reminded": str,
    },
    # photos and files sent as evidence of a closed task: the channel's reference, and the bytes
    # when the front-end could fetch them (so every channel and the readiness pack can show them)
    "evidence": {
        "id": int,
        "task_id": int,
        "user_id": int,
        "channel": str,
        "kind": str,
        "ref": str,
        "name": str,
        "data": bytes,
        "ts": str,
    },
}
INDEXES = {
    "tasks": [["unit_id", "status"], ["owner_id", "status"]],
    "evidence": [["task_id"]],
    "asked": [["normalized"], ["outcome"]],
    "shown": [["user_id"]],
    "feedback": [["entry_id"]],
    "runs": [["user_id", "checklist_id", "status"], ["unit_id"]],
    "users": [["unit_id"]],
    "accounts": [["user_id"]],
    "link_attempts": [["user_id"]],
}
UNIQUE = {
    "guide_progress": ["user_id", "guide_id"],
    "user_state": ["user_id"],
    "answers": ["run_id", "item_id"],
    "units": ["kind", "name", "province_code"],
    "quiz_answers": ["session_id", "idx"],
    "polls": ["poll_id"],
    "srs": ["user_id", "quiz_id"],
    "daily": ["user_id"],
    "deliveries": ["broadcast_id", "user_id"],
    "broadcasts": ["reminder_id", "occurrence"],
    "accounts": ["channel", "account"],
    "screens": ["channel", "account"],
    "files": ["token"],
    "settings": ["key"],
    "link_codes": ["code"],
}
# Tables with a user_id column: linking two accounts moves a person's rows from one id to the other.
PERSON_TABLES = (
    "evidence",
    "accounts",
    "user_state",
    "runs",
    "quiz_sessions",
    "srs",
    "daily",
    "guide_progress",
    "asked",
    "shown",
    "feedback",
    "deliveries",
    "link_codes",
    "link_attempts",
)


def explain(path: Path, exc: Exception) -> str:
    """One line for a database that cannot be used, saying what to do."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        what = (
            "tệp không phải cơ sở dữ liệu SQLite hoặc đã hỏng; khôi phục bản sao lưu, hoặc đổi tên tệp để bot tạo mới"
        )
    elif "readonly" in text or "read-only" in text or isinstance(exc, PermissionError) or "permission" in text:
        what = "không có quyền ghi vào tệp hoặc thư mục; cấp quyền ghi cho người chạy bot"
    elif "locked" in text or "busy" in text:
        what = "cơ sở dữ liệu đang bị một tiến trình khác khoá; dừng tiến trình đó rồi chạy lại"
    elif "unable to open" in text or isinstance(exc, (FileExistsError, NotADirectoryError)):
        what = "không mở được tệp; kiểm tra đường dẫn (database trong config.yaml) và quyền truy cập"
    else:
        what = str(exc)
    return f"Không dùng được cơ sở dữ liệu {path}: {what} ({exc})."


def now_iso() -> str:
    """Current UTC time as ISO 8601 (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def now_iso_precise() -> str:
    """Current UTC time with microseconds (orders events within one second)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class StorageError(Exception):
    """The database cannot be opened or written: the message says which file and what to do."""


def _written(row: dict | None) -> dict:
    """A row this connection has just written, read back: it is there (the bot is the only writer)."""
    assert row is not None, "a row just written is missing"
    return row


class Storage:
    """Durable state of the bot. Every method is one domain action."""

    def __init__(self, path: str | Path):
        path = Path(path)
        self.path = path
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL: a crash of the bot loses nothing; a power cut may lose the
            # last transactions before the WAL reached the disk (README: what is stored and why)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            check = conn.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise sqlite3.DatabaseError(f"database disk image is malformed: {check[0][0]}")
            self.db = sqlite_utils.Database(conn)
            self._depth = 0
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(explain(path, exc)) from exc

    def _migrate(self) -> None:
        for name, columns in SCHEMA.items():
            table = self.db.table(name)
            if not table.exists():
                table.create(columns, pk="id")
            else:
                missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
                for c, t in missing.items():
                    table.add_column(c, t)
        for name, cols in UNIQUE.items():
            if tuple(cols) not in {tuple(i.columns) for i in self.db.table(name).indexes}:
                self.db.table(name).create_index(cols, unique=True)
        for name, idx in INDEXES.items():
            existing = {tuple(i.columns) for i in self.db.table(name).indexes}
            for cols in idx:
                if tuple(cols) not in existing:
                    self.db.table(name).create_index(cols)
        # Before channels, users.id was the Telegram user id: give those users their Telegram account.
        self.db.execute(
            "INSERT OR IGNORE INTO accounts (user_id, channel, account, name, username, first_seen, last_seen, active) "
            "SELECT id, 'telegram', CAST(id AS TEXT), first_name, username, first_seen, last_seen, COALESCE(active, 1) "
            "FROM users WHERE id NOT IN (SELECT user_id FROM accounts)"
        )
        self._migrate_prompts()
        self._migrate_questions()
        self._split_same_channel_links()

    def _split_same_channel_links(self) -> None:
        """/lienket once joined two accounts of one channel (a second Telegram account inherited the unit,
        the membership and the role): each such extra account becomes a person of its own again, with no
        unit and no role. The account kept is the person's own (a Telegram id equal to the person id),
        else the one seen first."""
        pairs = self.db.execute(
            "SELECT user_id, channel FROM accounts GROUP BY user_id, channel HAVING COUNT(*) > 1"
        ).fetchall()
        for user_id, channel in pairs:
            rows = self.db.execute(
                "SELECT id, account, name, username, first_seen FROM accounts WHERE user_id = ? AND channel = ? "
                "ORDER BY (account = CAST(user_id AS TEXT)) DESC, first_seen, id",
                [user_id, channel],
            ).fetchall()
            with self.transaction():
                for row_id, account, name, username, first_seen in rows[1:]:
                    person = self._new_person(channel, account, name, username, first_seen or now_iso())
                    self.db.execute("UPDATE accounts SET user_id = ? WHERE id = ?", [person, row_id])
                    self.audit(user_id, "account.unlink", f"{channel}:{account}", "same channel")

    def _migrate_questions(self) -> None:
        """Questions logged before privacy rules kept the person's id and the verbatim text: pseudonymise."""
        if self.db.execute("SELECT 1 FROM asked WHERE user_id IS NOT NULL OR text IS NOT NULL LIMIT 1").fetchone():
            self.db.conn.create_function("pseudonym", 1, self.pseudonym)
            self.db.execute(
                "UPDATE asked SET asker = pseudonym(user_id), user_id = NULL, text = NULL "
                "WHERE user_id IS NOT NULL OR text IS NOT NULL"
            )

    def pseudonym(self, user_id: int | None) -> str | None:
        """A stable keyed hash of a person id (the key stays in the database): distinct, not reversible."""
        if user_id is None:
            return None
        key = getattr(self, "_salt", None)
        if key is None:
            row = self.db.execute("SELECT value FROM settings WHERE key = 'privacy_salt'").fetchone()
            key = row[0] if row else secrets.token_hex(16)
            if not row:
                self.db.execute("INSERT INTO settings (key, value) VALUES ('privacy_salt', ?)", [key])
            self._salt = key
        return hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:16]

    def _migrate_prompts(self) -> None:
        """Prompts written before they had one encoding ('run:idx', 'topic|n', 'rem_edit:3') become JSON."""
        for row in list(self.db.query("SELECT user_id, state, data FROM user_state")):
            state, data = row["state"] or "", row["data"] or ""
            try:
                if isinstance(json.loads(data or "{}"), dict):
                    continue
            except ValueError:
                pass
            parts = data.split("|")
            new: dict[str, object] | None
            if state == "ck_note":
                run, _, idx = data.partition(":")
                new = {"run": int(run), "item": int(idx)} if run.isdigit() and idx.isdigit() else None
            elif state == "ck_draft":
                run, idx, text = (data.split(":", 2) + ["", ""])[:3]
                new = {"run": int(run), "item": int(idx), "text": text} if run.isdigit() and idx.isdigit() else None
            elif state.startswith("rem_edit:"):
                state, new = "rem_edit", {"id": int(state.split(":")[1])} if state.split(":")[1].isdigit() else None
            elif state == "tq_len":
                new = {"topic": data}
            elif state == "tq_deadline" and len(parts) == 2:
                new = {"topic": parts[0], "length": int(parts[1])}
            elif state == "tq_units" and len(parts) == 3:
                new = {"topic": parts[0], "length": int(parts[1]), "deadline": parts[2]}
            else:
                new = {}
            if new is None:
                self.db.execute("DELETE FROM user_state WHERE user_id = ?", [row["user_id"]])
            else:
                self.db.execute(
                    "UPDATE user_state SET state = ?, data = ? WHERE user_id = ?",
                    [state, json.dumps(new, ensure_ascii=False), row["user_id"]],
                )

    def close(self) -> None:
        self.db.conn.close()

    def _insert(self, table: str, row: dict) -> int:
        """INSERT one row; returns its id. Plain SQL (sqlite-utils' insert commits on its own, which
        would end the caller's transaction early)."""
        assert table in SCHEMA and all(c in SCHEMA[table] for c in row), (table, row)
        cols = ", ".join(row)
        marks = ", ".join("?" * len(row))
        row_id = self.db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values())).lastrowid
        assert row_id is not None, "an INSERT always sets lastrowid"
        return row_id

    @contextmanager
    def transaction(self):
        """One write transaction (nested calls become savepoints): one fsync for several writes."""
        conn = self.db.conn
        if self._depth == 0 and not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
            name = None
        else:
            name = f"sp{self._depth}"
            conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            conn.execute(f"ROLLBACK TO {name}" if name else "ROLLBACK")
            if name:
                conn.execute(f"RELEASE {name}")
            raise
        self._depth -= 1
        conn.execute(f"RELEASE {name}" if name else "COMMIT")

    # ------------------------------------------------------------------ users

    def touch_user(self, user_id: int, first_name: str = "", username: str = "") -> None:
        """Record that the Telegram user ``user_id`` was active now, as the bot did before it had other
        channels (the person id is the Telegram id; see :meth:`touch_account` for any channel)."""
        ts = now_iso()
        with self.transaction():
            self.db.execute(
                "INSERT INTO users (id, first_name, username, first_seen, last_seen, active) VALUES (?, ?, ?, ?, ?, 1) "
                "ON CONFLICT(id) DO UPDATE SET first_name=excluded.first_name, username=excluded.username, "
                "last_seen=excluded.last_seen, active=1",
                [user_id, first_name or "", username or "", ts, ts],
            )
            self.db.execute(
                "INSERT INTO accounts (user_id, channel, account, name, username, first_seen, last_seen, active) "
                "VALUES (?, 'telegram', ?, ?, ?, ?, ?, 1) ON CONFLICT(channel, account) DO UPDATE SET "
                "last_seen=excluded.last_seen, active=1",
                [user_id, str(user_id), first_name or "", username or "", ts, ts],
            )

    def touch_account(self, channel: str, account: str, first_name: str = "", username: str = "") -> int:
        """The person behind a channel account, created on first contact; records that they were active."""
        ts = now_iso()
        with self.transaction():
            row = self.db.execute(
                "SELECT user_id, name, username, last_seen, active FROM accounts WHERE channel = ? AND account = ?",
                [channel, account],
            ).fetchone()
            if (
                row is not None
                and row[1:3] == (first_name or "", username or "")
                and row[4] == 1
                and (row[3] or "")[:16] == ts[:16]
            ):
                return row[0]  # seen this minute under the same name: nothing to write
            if row is None:
                user_id = self._new_person(channel, account, first_name, username, ts)
                self.db.execute(
                    "INSERT INTO accounts (user_id, channel, account, name, username, first_seen, last_seen, active) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                    [user_id, channel, account, first_name or "", username or "", ts, ts],
                )
                return user_id
            user_id = row[0]
            self.db.execute(
                "UPDATE accounts SET name = ?, username = ?, last_seen = ?, active = 1 "
                "WHERE channel = ? AND account = ?",
                [first_name or "", username or "", ts, channel, account],
            )
            self.db.execute(
                "UPDATE users SET first_name = ?, username = ?, last_seen = ?, active = 1 WHERE id = ?",
                [first_name or "", username or "", ts, user_id],
            )
            return user_id

    def person_of(self, channel: str, account: str) -> int | None:
        """The person id of an account, None for an account never seen."""
        row = self.db.execute(
            "SELECT user_id FROM accounts WHERE channel = ? AND account = ?", [channel, account]
        ).fetchone()
        return row[0] if row else None

    def person_for(self, channel: str, account: str) -> int:
        """The person id of an account, a new person for an account never seen (a role given before
        the person has written to the bot)."""
        person = self.person_of(channel, account)
        if person is not None:
            return person
        ts = now_iso()
        with self.transaction():
            user_id = self._new_person(channel, account, "", "", ts)
            self.db.execute(
                "INSERT INTO accounts (user_id, channel, account, name, username, first_seen, last_seen, "
                "active) VALUES (?, ?, ?, '', '', ?, ?, 1)",
                [user_id, channel, account, ts, ts],
            )
        return user_id

    def _new_person(self, channel: str, account: str, first_name: str, username: str, ts: str) -> int:
        """A new person row. A Telegram account keeps its Telegram id as the person id when that id is
        free, as every database made before channels existed has it (audit logs and exports keep their
        ids); other accounts, and a Telegram id already taken, get the next id. The accounts table is
        what links the two: never send to a person id."""
        wanted = int(account) if channel == "telegram" and account.isdigit() and len(account) <= 18 else None
        if wanted is not None and self.db.execute("SELECT 1 FROM users WHERE id = ?", [wanted]).fetchone():
            wanted = None
        row_id = self.db.execute(
            "INSERT INTO users (id, first_name, username, first_seen, last_seen, active) VALUES (?, ?, ?, ?, ?, 1)",
            [wanted, first_name or "", username or "", ts, ts],
        ).lastrowid
        assert row_id is not None, "an INSERT always sets lastrowid"
        return row_id

    def accounts_of(self, user_id: int) -> list[dict]:
        """A person's accounts, the most recently used first."""
        return list(
            self.db.query("SELECT * FROM accounts WHERE user_id = ? ORDER BY last_seen DESC, id DESC", [user_id])
        )

    def contact(self, user_id: int) -> tuple[str, str] | None:
        """(channel, account) to reach a person on: the active account they used last."""
        row = self.db.execute(
            "SELECT channel, account FROM accounts WHERE user_id = ? AND active = 1 "
            "ORDER BY last_seen DESC, id DESC LIMIT 1",
            [user_id],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def get_user(self, user_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM users WHERE id = ?", [user_id]))
        return rows[0] if rows else None

    # ------------------------------------------------------------------ units

    def get_or_create_unit(
        self, kind: str, name: str, province_code: int, province_name: str, ward_code: int | None = None
    ) -> int:
        """The id of a unit (a commune/ward from the official list, or an agency typed by name)."""
        rows = list(
            self.db.query(
                "SELECT id FROM units WHERE kind = ? AND name = ? AND province_code = ?", [kind, name, province_code]
            )
        )
        if rows:
            return rows[0]["id"]
        return self._insert(
            "units",
            {
                "kind": kind,
                "name": name,
                "ward_code": ward_code,
                "province_code": province_code,
                "province_name": province_name,
                "created": now_iso(),
            },
        )

    def agencies_in(self, province_code: int) -> list[dict]:
        """The agencies (units typed by name, not from the official list) of a province: id, name."""
        return list(
            self.db.query(
                "SELECT id, name FROM units WHERE kind = 'co-quan' AND province_code = ? ORDER BY id", [province_code]
            )
        )

    def get_unit(self, unit_id: int | None) -> dict | None:
        if not unit_id:
            return None
        rows = list(self.db.query("SELECT * FROM units WHERE id = ?", [unit_id]))
        return rows[0] if rows else None

    def set_user_unit(self, user_id: int, unit_id: int, confirmed: bool = False, by: int | None = None) -> None:
        """Attach a person to a unit (a unit has many members; a person one unit at a time), pending
        until the inspection team confirms them (or they type the unit's join code: ``confirmed``)."""
        with self.transaction():
            self.db.execute(
                "UPDATE users SET unit_id = ?, unit_status = 'pending', unit_since = ?, confirmed_by = NULL "
                "WHERE id = ?",
                [unit_id, now_iso(), user_id],
            )
            if confirmed:
                self.confirm_member(user_id, by)

    def confirm_member(self, user_id: int, by: int | None) -> dict | None:
        """Confirm a person as a member of the unit they declared: their runs and quizzes for that unit
        count in its figures from now on, the earlier ones too. Returns the unit, or None when the
        person has no unit (they left it, or someone else already decided)."""
        with self.transaction():
            user = self.get_user(user_id)
            if not user or not user["unit_id"]:
                return None
            self.db.execute("UPDATE users SET unit_status = 'confirmed', confirmed_by = ? WHERE id = ?", [by, user_id])
            for table in ("runs", "quiz_sessions"):
                self.db.execute(
                    f"UPDATE {table} SET confirmed = 1 WHERE user_id = ? AND unit_id = ?", [user_id, user["unit_id"]]
                )
            return self.get_unit(user["unit_id"])

    def reject_member(self, user_id: int, unit_id: int) -> bool:
        """The inspection team says the person is not a member of ``unit_id``: they leave it (their runs
        stay unconfirmed and never count). False when they are no longer pending there."""
        return (
            self.db.execute(
                "UPDATE users SET unit_id = NULL, unit_status = NULL, unit_since = NULL WHERE id = ? "
                "AND unit_id = ? AND unit_status = 'pending'",
                [user_id, unit_id],
            ).rowcount
            == 1
        )

    def membership(self, user_id: int) -> str | None:
        """'confirmed', 'pending', or None without a unit."""
        user = self.get_user(user_id)
        return (user.get("unit_status") or "pending") if user and user["unit_id"] else None

    def pending_members(self, province_code: int | None = None) -> list[dict]:
        """People waiting to be confirmed, oldest first, with their unit and how to recognise them."""
        where = "AND un.province_code = ?" if province_code is not None else ""
        return list(
            self.db.query(
                "SELECT us.id, us.first_name, us.username, us.unit_since, us.unit_id, un.name AS unit_name, "
                "un.province_name, (SELECT channel FROM accounts a WHERE a.user_id = us.id ORDER BY last_seen DESC "
                "LIMIT 1) AS channel FROM users us JOIN units un ON un.id = us.unit_id "
                f"WHERE COALESCE(us.unit_status, 'pending') = 'pending' {where} ORDER BY us.unit_since, us.id",
                [province_code] if province_code is not None else [],
            )
        )

    def unit_of(self, user_id: int) -> dict | None:
        user = self.get_user(user_id)
        return self.get_unit(user["unit_id"]) if user else None

    def unit_members(self, unit_id: int) -> int:
        """Confirmed members of a unit."""
        return self.db.execute(
            "SELECT COUNT(*) FROM users WHERE unit_id = ? AND unit_status = 'confirmed'", [unit_id]
        ).fetchone()[0]

    # ------------------------------------------------------------------ what a user is typing for

    def set_prompt(self, user_id: int, prompt: str, data: dict | None = None) -> None:
        """Remember that the next text from this person answers ``prompt``, with its data (survives restarts)."""
        self.db.execute(
            "INSERT INTO user_state (user_id, state, data, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET state=excluded.state, data=excluded.data, updated=excluded.updated",
            [user_id, str(prompt), json.dumps(data or {}, ensure_ascii=False), now_iso()],
        )

    def get_prompt(self, user_id: int) -> tuple[str, dict] | None:
        """(prompt, data) the bot waits on for this person, or None."""
        row = self.db.execute("SELECT state, data FROM user_state WHERE user_id = ?", [user_id]).fetchone()
        if not row or not row[0]:
            return None
        try:
            data = json.loads(row[1] or "{}")
        except ValueError:
            data = None
        return (row[0], data) if isinstance(data, dict) else None

    def clear_prompt(self, user_id: int) -> None:
        self.db.execute("DELETE FROM user_state WHERE user_id = ?", [user_id])

    # ------------------------------------------------------------------ chats without buttons

    def save_screen(self, channel: str, account: str, screen: dict) -> None:
        """The numbered options (and pages still to show) of the last message in a chat."""
        self.db.execute(
            "INSERT INTO screens (channel, account, data, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(channel, account) DO UPDATE SET data=excluded.data, updated=excluded.updated",
            [channel, account, json.dumps(screen, ensure_ascii=False), now_iso()],
        )

    def load_screen(self, channel: str, account: str) -> dict | None:
        row = self.db.execute(
            "SELECT data FROM screens WHERE channel = ? AND account = ?", [channel, account]
        ).fetchone()
        try:
            return json.loads(row[0]) if row else None
        except ValueError:
            return None

    # ------------------------------------------------------------------ files behind signed links

    def save_file(self, token: str, name: str, mime: str, data: bytes, expires: str) -> None:
        self.db.execute(
            "INSERT INTO files (token, name, mime, data, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
            [token, name, mime, data, now_iso(), expires],
        )

    def get_file(self, token: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM files WHERE token = ?", [token]))
        return rows[0] if rows else None

    def purge_files(self, before: str) -> int:
        """Delete files whose links expired before ``before`` (ISO time)."""
        return self.db.execute("DELETE FROM files WHERE expires < ?", [before]).rowcount

    def setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            [key, value],
        )

    # ------------------------------------------------------------------ linking two accounts of one person

    def create_link_code(self, user_id: int, code: str, minutes: int) -> bool:
        """Store a one-time code valid for ``minutes`` (a person has one at a time); False when the code
        is taken (the caller draws another). Times are UTC, like every other time stored here."""
        expires = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds")
        with self.transaction():
            self.db.execute("DELETE FROM link_codes WHERE user_id = ? OR expires < ?", [user_id, now_iso()])
            return (
                self.db.execute(
                    "INSERT OR IGNORE INTO link_codes (code, user_id, expires, used) VALUES (?, ?, ?, 0)",
                    [code, user_id, expires],
                ).rowcount
                == 1
            )

    def link_code_owner(self, code: str) -> int | None:
        """The person who made ``code`` if it is unused and not expired (the code stays usable)."""
        row = self.db.execute(
            "SELECT user_id FROM link_codes WHERE code = ? AND used = 0 AND expires >= ?", [code, now_iso()]
        ).fetchone()
        return row[0] if row else None

    def take_link_code(self, code: str, taker: int) -> int | None:
        """The person who made ``code`` if it is unused and not expired; it is used up unless ``taker``
        is that same person (who typed it on the wrong account)."""
        with self.transaction():
            row = self.db.execute(
                "SELECT user_id FROM link_codes WHERE code = ? AND used = 0 AND expires >= ?", [code, now_iso()]
            ).fetchone()
            if row and row[0] != taker:
                self.db.execute("UPDATE link_codes SET used = 1 WHERE code = ?", [code])
            return row[0] if row else None

    def failures(self, user_id: int, kind: str, minutes: int) -> int:
        """Wrong codes of one kind ("link", "join") typed by a person in the last ``minutes``."""
        since = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="seconds")
        return self.db.execute(
            "SELECT COUNT(*) FROM link_attempts WHERE user_id = ? AND COALESCE(kind, 'link') = ? AND ts >= ?",
            [user_id, kind, since],
        ).fetchone()[0]

    def record_failure(self, user_id: int, kind: str) -> None:
        self.db.execute("INSERT INTO link_attempts (user_id, ts, kind) VALUES (?, ?, ?)", [user_id, now_iso(), kind])

    def merge_people(self, source: int, target: int) -> None:
        """Move everything of person ``source`` to person ``target`` (one person, two accounts).

        Rows that would clash with the target's own (a guide both started, the daily question) keep
        the target's; the target keeps its unit and role unless it has none."""
        with self.transaction():
            src, dst = self.get_user(source) or {}, self.get_user(target) or {}
            for table in PERSON_TABLES:
                self.db.execute(f"UPDATE OR IGNORE {table} SET user_id = ? WHERE user_id = ?", [target, source])
                self.db.execute(f"DELETE FROM {table} WHERE user_id = ?", [source])
            for column in ("owner_id", "created_by", "closed_by"):
                self.db.execute(f"UPDATE tasks SET {column} = ? WHERE {column} = ?", [target, source])
            rank = {"admin": 2, "inspector": 1}
            role = max((src.get("role") or "official", dst.get("role") or "official"), key=lambda r: rank.get(r, 0))
            if not dst.get("unit_id") and src.get("unit_id"):
                self.db.execute(
                    "UPDATE users SET unit_id = ?, unit_status = ?, unit_since = ?, confirmed_by = ? WHERE id = ?",
                    [src["unit_id"], src.get("unit_status"), src.get("unit_since"), src.get("confirmed_by"), target],
                )
            self.db.execute("UPDATE users SET role = ?, active = 1 WHERE id = ?", [role, target])
            self.db.execute("DELETE FROM users WHERE id = ?", [source])

    # ------------------------------------------------------------------ checklist runs

    def open_run(self, user_id: int, checklist_id: str) -> dict | None:
        """The user's unfinished run of a checklist, if any (there is at most one)."""
        rows = list(
            self.db.query(
                "SELECT * FROM runs WHERE user_id = ? AND checklist_id = ? AND status = 'open' "
                "ORDER BY id DESC LIMIT 1",
                [user_id, checklist_id],
            )
        )
        return rows[0] if rows else None

    def open_runs(self, user_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM runs WHERE user_id = ? AND status = 'open' ORDER BY id", [user_id]))

    def recent_open_run(self, user_id: int, since: str) -> dict | None:
        """The user's unfinished run touched last (started or answered), if that was at ``since`` or later."""
        rows = list(
            self.db.query(
                "SELECT runs.*, MAX(MAX(COALESCE(answers.updated, ''), runs.started)) AS touched FROM runs "
                "LEFT JOIN answers ON answers.run_id = runs.id WHERE runs.user_id = ? AND runs.status = 'open' "
                "GROUP BY runs.id HAVING touched >= ? ORDER BY touched DESC, runs.id DESC LIMIT 1",
                [user_id, since],
            )
        )
        return rows[0] if rows else None

    def start_run(self, user_id: int, unit_id: int | None, checklist_id: str) -> dict:
        """A new run, or the open one: one open run per user and checklist."""
        existing = self.open_run(user_id, checklist_id)
        if existing:
            return existing
        run_id = self._insert(
            "runs",
            {
                "user_id": user_id,
                "unit_id": unit_id,
                "checklist_id": checklist_id,
                "status": "open",
                "position": 0,
                "started": now_iso(),
                "confirmed": self._confirmed_in(user_id, unit_id),
            },
        )
        return _written(self.get_run(run_id))

    def get_run(self, run_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
        return rows[0] if rows else None

    def set_position(self, run_id: int, position: int) -> None:
        self.db.execute("UPDATE runs SET position = ? WHERE id = ?", [position, run_id])

    def save_answer(self, run_id: int, item_id: str, answer: str | None = None, note: str | None = None) -> None:
        """Store an answer (dat / mot-phan / chua-dat / khong-ap-dung / bo-qua) or a note, as soon as it is given."""
        self.db.execute(
            "INSERT INTO answers (run_id, item_id, answer, note, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(run_id, item_id) DO UPDATE SET answer=COALESCE(excluded.answer, answers.answer), "
            "note=COALESCE(excluded.note, answers.note), updated=excluded.updated",
            [run_id, item_id, answer, note, now_iso()],
        )

    def latest_done_runs(self, user_id: int) -> list[dict]:
        """A person's latest finished run of each checklist, newest first."""
        return list(
            self.db.query(
                "SELECT * FROM runs r WHERE user_id = ? AND status = 'done' AND id = (SELECT MAX(id) FROM runs r2 "
                "WHERE r2.user_id = r.user_id AND r2.checklist_id = r.checklist_id AND r2.status = 'done') "
                "ORDER BY id DESC",
                [user_id],
            )
        )

    def run_answers(self, run_id: int) -> dict[str, dict]:
        return {r["item_id"]: r for r in self.db.query("SELECT * FROM answers WHERE run_id = ?", [run_id])}

    def count_done_runs(self, user_id: int) -> int:
        return self.db.execute("SELECT COUNT(*) FROM runs WHERE user_id = ? AND status = 'done'", [user_id]).fetchone()[
            0
        ]

    def finish_run(self, run_id: int, score: float) -> None:
        self.db.execute(
            "UPDATE runs SET status = 'done', finished = ?, score = ? WHERE id = ?", [now_iso(), score, run_id]
        )

    def previous_run(self, unit_id: int | None, user_id: int, checklist_id: str, before_run: int) -> dict | None:
        """The latest finished run of the same checklist by the same unit (or user, without a unit)."""
        if unit_id:
            sql, args = "unit_id = ?", [unit_id]
        else:
            sql, args = "user_id = ? AND unit_id IS NULL", [user_id]
        rows = list(
            self.db.query(
                f"SELECT * FROM runs WHERE {sql} AND checklist_id = ? AND status = 'done' AND id < ? "
                "ORDER BY id DESC LIMIT 1",
                [*args, checklist_id, before_run],
            )
        )
        return rows[0] if rows else None

    # ------------------------------------------------------------------ quizzes

    def start_quiz(
        self, user_id: int, unit_id: int | None, topic: str, question_ids: list[str], assignment_id: int | None = None
    ) -> dict:
        """A new quiz session; any unfinished session of the user is abandoned."""
        self.db.execute(
            "UPDATE quiz_sessions SET status = 'abandoned' WHERE user_id = ? AND status = 'open'", [user_id]
        )
        sid = self._insert(
            "quiz_sessions",
            {
                "user_id": user_id,
                "unit_id": unit_id,
                "topic": topic,
                "questions": json.dumps(question_ids),
                "position": 0,
                "correct": 0,
                "status": "open",
                "assignment_id": assignment_id,
                "started": now_iso(),
                "confirmed": self._confirmed_in(user_id, unit_id),
            },
        )
        return _written(self.get_quiz(sid))

    def _confirmed_in(self, user_id: int, unit_id: int | None) -> int:
        """1 when the person is a confirmed member of ``unit_id``: what they do there counts for it."""
        return int(
            unit_id is not None
            and self.db.execute(
                "SELECT 1 FROM users WHERE id = ? AND unit_id = ? AND unit_status = 'confirmed'", [user_id, unit_id]
            ).fetchone()
            is not None
        )

    def get_quiz(self, session_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM quiz_sessions WHERE id = ?", [session_id]))
        if not rows:
            return None
        row = rows[0]
        row["questions"] = json.loads(row["questions"])
        return row

    def open_quiz(self, user_id: int) -> dict | None:
        rows = list(
            self.db.query(
                "SELECT id FROM quiz_sessions WHERE user_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1", [user_id]
            )
        )
        return self.get_quiz(rows[0]["id"]) if rows else None

    def quiz_touched(self, session_id: int) -> str:
        """When a quiz session was last answered (or started)."""
        row = self.db.execute(
            "SELECT MAX(COALESCE((SELECT MAX(ts) FROM quiz_answers WHERE session_id = s.id), ''), s.started) "
            "FROM quiz_sessions s WHERE s.id = ?",
            [session_id],
        ).fetchone()
        return (row[0] if row else "") or ""

    def stop_quiz(self, session_id: int) -> None:
        """A quiz the user stopped (/huy): closed as abandoned, so it counts in no leaderboard; its answers
        stay for spaced repetition."""
        self.db.execute(
            "UPDATE quiz_sessions SET status = 'abandoned', finished = ? WHERE id = ? AND status = 'open'",
            [now_iso(), session_id],
        )

    def record_quiz_answer(self, session_id: int, idx: int, quiz_id: str, chosen: int, correct: bool) -> bool:
        """Store one answer and advance the session; False if this question was already answered."""
        with self.transaction():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO quiz_answers (session_id, idx, quiz_id, chosen, correct, ts) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [session_id, idx, quiz_id, chosen, int(correct), now_iso()],
            )
            if cur.rowcount == 0:
                return False
            self.db.execute(
                "UPDATE quiz_sessions SET position = position + 1, correct = correct + ? WHERE id = ?",
                [int(correct), session_id],
            )
        return True

    def finish_quiz(self, session_id: int, score: float) -> None:
        self.db.execute(
            "UPDATE quiz_sessions SET status = 'done', score = ?, finished = ? WHERE id = ? AND status = 'open'",
            [score, now_iso(), session_id],
        )

    def missed_questions(self, session_id: int) -> list[str]:
        return [
            r["quiz_id"]
            for r in self.db.query(
                "SELECT quiz_id FROM quiz_answers WHERE session_id = ? AND correct = 0 ORDER BY idx", [session_id]
            )
        ]

    def register_poll(self, poll_id: str, session_id: int, idx: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO polls (poll_id, session_id, idx) VALUES (?, ?, ?)", [poll_id, session_id, idx]
        )

    def poll_target(self, poll_id: str) -> dict | None:
        rows = list(self.db.query("SELECT session_id, idx FROM polls WHERE poll_id = ?", [poll_id]))
        return rows[0] if rows else None

    def srs_box(self, user_id: int, quiz_id: str) -> int:
        rows = list(self.db.query("SELECT box FROM srs WHERE user_id = ? AND quiz_id = ?", [user_id, quiz_id]))
        return rows[0]["box"] if rows else 0

    def save_srs(self, user_id: int, quiz_id: str, box: int, due: str | None) -> None:
        self.db.execute(
            "INSERT INTO srs (user_id, quiz_id, box, due, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(user_id, quiz_id) DO UPDATE SET box=excluded.box, due=excluded.due, updated=excluded.updated",
            [user_id, quiz_id, box, due, now_iso()],
        )

    def due_reviews(self, user_id: int, today: str) -> list[str]:
        """Questions due for review on or before ``today`` (ISO date), most overdue first."""
        return [
            r["quiz_id"]
            for r in self.db.query(
                "SELECT quiz_id FROM srs WHERE user_id = ? AND due IS NOT NULL AND due <= ? ORDER BY due, quiz_id",
                [user_id, today],
            )
        ]

    def seen_questions(self, user_id: int) -> set[str]:
        return {r["quiz_id"] for r in self.db.query("SELECT quiz_id FROM srs WHERE user_id = ?", [user_id])}

    def unit_leaderboard(self) -> list[dict]:
        """Per unit: average score of finished quizzes, how many members took one, how many members."""
        return list(
            self.db.query(
                """
            SELECT u.id, u.name, u.province_code, u.province_name,
                   AVG(q.score) AS avg_score, COUNT(DISTINCT q.user_id) AS takers, COUNT(q.id) AS quizzes,
                   (SELECT COUNT(*) FROM users m WHERE m.unit_id = u.id AND m.unit_status = 'confirmed') AS members
            FROM units u JOIN quiz_sessions q ON q.unit_id = u.id AND q.status = 'done' AND q.confirmed = 1
            GROUP BY u.id ORDER BY avg_score DESC, takers DESC, u.name
            """
            )
        )

    def user_leaderboard(self, unit_id: int) -> list[dict]:
        return list(
            self.db.query(
                """
            SELECT us.id, us.first_name, AVG(q.score) AS avg_score, COUNT(q.id) AS quizzes
            FROM quiz_sessions q JOIN users us ON us.id = q.user_id
            WHERE q.unit_id = ? AND q.status = 'done'
            GROUP BY us.id ORDER BY avg_score DESC, quizzes DESC, us.first_name
            """,
                [unit_id],
            )
        )

    def set_daily(self, user_id: int, time: str | None) -> None:
        """Subscribe to the daily question at HH:MM, or unsubscribe with None."""
        self.db.execute(
            "INSERT INTO daily (user_id, time, active, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET time=excluded.time, active=excluded.active, updated=excluded.updated",
            [user_id, time or "", int(bool(time)), now_iso()],
        )

    def daily_subscriptions(self) -> list[dict]:
        return list(self.db.query("SELECT user_id, time FROM daily WHERE active = 1 ORDER BY user_id"))

    # ------------------------------------------------------------------ team quizzes

    def create_assignment(self, created_by: int, topic: str, length: int, deadline: str, unit_ids: list[int]) -> int:
        return self._insert(
            "quiz_assignments",
            {
                "created_by": created_by,
                "topic": topic,
                "length": length,
                "deadline": deadline,
                "unit_ids": ",".join(str(u) for u in unit_ids),
                "created": now_iso(),
            },
        )

    def get_assignment(self, assignment_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM quiz_assignments WHERE id = ?", [assignment_id]))
        if not rows:
            return None
        row = rows[0]
        row["unit_ids"] = [int(x) for x in row["unit_ids"].split(",") if x]
        return row

    def assignments(self) -> list[dict]:
        return [
            a
            for r in self.db.query("SELECT id FROM quiz_assignments ORDER BY id DESC")
            if (a := self.get_assignment(r["id"])) is not None
        ]

    def took_assignment(self, user_id: int, assignment_id: int) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM quiz_sessions WHERE user_id = ? AND assignment_id = ? AND status = 'done'",
                [user_id, assignment_id],
            ).fetchone()
            is not None
        )

    def assignment_results(self, assignment_id: int) -> list[dict]:
        """Per assigned unit: confirmed members, those who finished the quiz and their average (best per
        member), and how many unconfirmed people took it (never in the average)."""
        a = self.get_assignment(assignment_id)
        out = []
        for unit_id in a["unit_ids"] if a else []:
            unit = self.get_unit(unit_id)
            best = list(
                self.db.query(
                    "SELECT user_id, MAX(score) AS score, MAX(COALESCE(confirmed, 0)) AS confirmed FROM quiz_sessions "
                    "WHERE assignment_id = ? AND unit_id = ? AND status = 'done' GROUP BY user_id",
                    [assignment_id, unit_id],
                )
            )
            unconfirmed = sum(1 for b in best if not b["confirmed"])
            best = [b for b in best if b["confirmed"]]
            out.append(
                {
                    "unit": unit["name"] if unit else str(unit_id),
                    "members": self.unit_members(unit_id),
                    "participants": len(best),
                    "unconfirmed": unconfirmed,
                    "avg_score": round(sum(b["score"] for b in best) / len(best), 1) if best else None,
                }
            )
        return out

    def all_units(self) -> list[dict]:
        """Every registered unit (id, name, province_name), oldest first."""
        return list(self.db.query("SELECT id, name, province_name FROM units ORDER BY id"))

    def unit_ids_in_province(self, province_code: int) -> list[int]:
        return [
            r["id"] for r in self.db.query("SELECT id FROM units WHERE province_code = ? ORDER BY id", [province_code])
        ]

    # ------------------------------------------------------------------ roles and audit

    def set_role(self, user_id: int, role: str) -> None:
        """Give a person a role (official / inspector)."""
        self.db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])

    def users_with_role(self, role: str) -> list[dict]:
        return list(self.db.query("SELECT * FROM users WHERE role = ? ORDER BY id", [role]))

    def audit(self, actor: int, action: str, target: str = "", detail: str = "") -> None:
        """Append to the audit log (admin actions and refused privileged attempts)."""
        self._insert(
            "audit_log", {"ts": now_iso(), "actor": actor, "action": action, "target": target, "detail": detail[:500]}
        )

    def audit_entries(self, limit: int = 50) -> list[dict]:
        return list(self.db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit]))

    # ------------------------------------------------------------------ reminders

    def save_reminder(self, row: dict) -> int:
        row = {**row, "created": now_iso()}
        return self._insert("reminders", row)

    def get_reminder(self, reminder_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM reminders WHERE id = ?", [reminder_id]))
        return rows[0] if rows else None

    def reminders(self, statuses: tuple[str, ...] = ("active", "paused")) -> list[dict]:
        marks = ",".join("?" * len(statuses))
        return list(self.db.query(f"SELECT * FROM reminders WHERE status IN ({marks}) ORDER BY id", list(statuses)))

    def update_reminder(self, reminder_id: int, **values) -> None:
        allowed = {
            "text",
            "status",
            "next_run",
            "last_run",
            "at",
            "time",
            "weekday",
            "monthday",
            "days_before",
            "event",
            "target",
            "target_arg",
            "kind",
        }
        cols = [c for c in values if c in allowed]
        if cols:
            sets = ", ".join(f"{c} = ?" for c in cols)
            self.db.execute(f"UPDATE reminders SET {sets} WHERE id = ?", [values[c] for c in cols] + [reminder_id])

    # ------------------------------------------------------------------ broadcasts

    def create_broadcast(
        self,
        reminder_id: int | None,
        occurrence: str,
        created_by: int,
        text: str,
        user_ids: list[int],
        late: bool = False,
        links: list[tuple[str, str]] | None = None,
    ) -> int | None:
        """A broadcast and one pending delivery per recipient; None if this occurrence already exists.
        ``links`` are (label, callback data) of buttons to what it is about (the calendar, a checklist)."""
        with self.transaction():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO broadcasts (reminder_id, occurrence, created_by, text, status, total, sent, "
                "failed, blocked, unknown, late, started, links) "
                "VALUES (?, ?, ?, ?, 'sending', ?, 0, 0, 0, 0, ?, ?, ?)",
                [
                    reminder_id,
                    occurrence,
                    created_by,
                    text,
                    len(user_ids),
                    int(late),
                    now_iso(),
                    json.dumps([list(link) for link in links or []], ensure_ascii=False),
                ],
            )
            if cur.rowcount == 0:
                return None
            bid = cur.lastrowid
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO deliveries (broadcast_id, user_id, status, attempts, ts) "
                "VALUES (?, ?, 'pending', 0, ?)",
                [(bid, uid, now_iso()) for uid in user_ids],
            )
        return bid

    def latest_broadcast_of(self, reminder_id: int) -> dict | None:
        """The last broadcast a reminder made, or None."""
        rows = list(
            self.db.query("SELECT * FROM broadcasts WHERE reminder_id = ? ORDER BY id DESC LIMIT 1", [reminder_id])
        )
        return rows[0] if rows else None

    def get_broadcast(self, broadcast_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM broadcasts WHERE id = ?", [broadcast_id]))
        return rows[0] if rows else None

    def broadcast_links(self, broadcast_id: int) -> list[tuple[str, str]]:
        """The (label, callback data) buttons a broadcast links to."""
        row = self.db.execute("SELECT links FROM broadcasts WHERE id = ?", [broadcast_id]).fetchone()
        return [tuple(link) for link in json.loads(row[0] or "[]")] if row else []

    def ack_delivery(self, broadcast_id: int, user_id: int) -> bool | None:
        """The recipient pressed «Đã nhận»: True the first time, False after that, None when the broadcast
        was never meant for them."""
        if self.db.execute(
            "UPDATE deliveries SET acked = ? WHERE broadcast_id = ? AND user_id = ? AND acked IS NULL",
            [now_iso(), broadcast_id, user_id],
        ).rowcount:
            return True
        found = self.db.execute(
            "SELECT 1 FROM deliveries WHERE broadcast_id = ? AND user_id = ?", [broadcast_id, user_id]
        ).fetchone()
        return False if found else None

    def acknowledged(self, broadcast_id: int) -> int:
        """How many recipients pressed «Đã nhận»."""
        return self.db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE broadcast_id = ? AND acked IS NOT NULL", [broadcast_id]
        ).fetchone()[0]

    def unfinished_broadcasts(self) -> list[dict]:
        return list(self.db.query("SELECT * FROM broadcasts WHERE status = 'sending' ORDER BY id"))

    def is_recipient(self, broadcast_id: int, user_id: int) -> bool:
        """The broadcast was meant for this person (they may read it again, and acknowledge it)."""
        return (
            self.db.execute(
                "SELECT 1 FROM deliveries WHERE broadcast_id = ? AND user_id = ?", [broadcast_id, user_id]
            ).fetchone()
            is not None
        )

    def pending_deliveries(self, broadcast_id: int, limit: int = 500) -> list[int]:
        return [
            r["user_id"]
            for r in self.db.query(
                "SELECT user_id FROM deliveries WHERE broadcast_id = ? AND status = 'pending' ORDER BY id LIMIT ?",
                [broadcast_id, limit],
            )
        ]

    def claim_delivery(self, broadcast_id: int, user_id: int) -> bool:
        """Mark a delivery in flight before sending. A crash after this never resends it (no duplicates)."""
        cur = self.db.execute(
            "UPDATE deliveries SET status = 'in-flight', attempts = attempts + 1, ts = ? "
            "WHERE broadcast_id = ? AND user_id = ? AND status = 'pending'",
            [now_iso(), broadcast_id, user_id],
        )
        return cur.rowcount == 1

    def release_delivery(self, broadcast_id: int, user_id: int) -> None:
        """Back to pending after a flood-control wait (the message was not accepted)."""
        self.db.execute(
            "UPDATE deliveries SET status = 'pending' WHERE broadcast_id = ? AND user_id = ? AND status = 'in-flight'",
            [broadcast_id, user_id],
        )

    def finish_delivery(
        self, broadcast_id: int, user_id: int, status: str, error: str = "", channel: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE deliveries SET status = ?, error = ?, ts = ?, channel = COALESCE(?, channel) "
            "WHERE broadcast_id = ? AND user_id = ?",
            [status, error[:300], now_iso(), channel, broadcast_id, user_id],
        )

    def orphan_in_flight(self, broadcast_id: int) -> int:
        """After a crash: in-flight deliveries may or may not have arrived; mark them unknown, never resend."""
        return self.db.execute(
            "UPDATE deliveries SET status = 'unknown' WHERE broadcast_id = ? AND status = 'in-flight'", [broadcast_id]
        ).rowcount

    def retry_unknown(self, broadcast_id: int) -> int:
        """Deliveries of unknown outcome back to pending, and the broadcast to sending; how many."""
        with self.transaction():
            n = self.db.execute(
                "UPDATE deliveries SET status = 'pending', error = '' WHERE broadcast_id = ? AND status = 'unknown'",
                [broadcast_id],
            ).rowcount
            if n:
                self.db.execute("UPDATE broadcasts SET status = 'sending' WHERE id = ?", [broadcast_id])
            return n

    def close_broadcast(self, broadcast_id: int) -> dict:
        counts = {
            r["status"]: r["n"]
            for r in self.db.query(
                "SELECT status, COUNT(*) AS n FROM deliveries WHERE broadcast_id = ? GROUP BY status", [broadcast_id]
            )
        }
        self.db.execute(
            "UPDATE broadcasts SET status = 'done', sent = ?, failed = ?, blocked = ?, unknown = ?, finished = ? "
            "WHERE id = ?",
            [
                counts.get("sent", 0),
                counts.get("failed", 0),
                counts.get("blocked", 0),
                counts.get("unknown", 0),
                now_iso(),
                broadcast_id,
            ],
        )
        return _written(self.get_broadcast(broadcast_id))

    def delivery_counts(self, broadcast_id: int) -> dict[str, int]:
        return {
            r["status"]: r["n"]
            for r in self.db.query(
                "SELECT status, COUNT(*) AS n FROM deliveries WHERE broadcast_id = ? GROUP BY status", [broadcast_id]
            )
        }

    def mark_blocked(self, user_id: int, channel: str | None = None) -> None:
        """The person blocked the bot on ``channel`` (all channels when None): stop sending there; a
        person with no active account left is not a recipient any more."""
        with self.transaction():
            if channel:
                self.db.execute("UPDATE accounts SET active = 0 WHERE user_id = ? AND channel = ?", [user_id, channel])
            else:
                self.db.execute("UPDATE accounts SET active = 0 WHERE user_id = ?", [user_id])
            left = self.db.execute(
                "SELECT COUNT(*) FROM accounts WHERE user_id = ? AND active = 1", [user_id]
            ).fetchone()[0]
            if not left:
                self.db.execute("UPDATE users SET active = 0 WHERE id = ?", [user_id])

    def recipients(self, target: str, arg: str = "", today: str = "") -> list[int]:
        """Active users for a reminder target, computed from the state at the time of asking: all |
        province:<code> | not-done:<checklist> | units:<id,id> | silent:<days> (members of units nobody
        used for that many days) | overdue (members of units with an open task due before ``today``)."""
        base = "SELECT us.id FROM users us LEFT JOIN units un ON un.id = us.unit_id WHERE us.active = 1"
        if target == "silent":
            since = (datetime.now(UTC) - timedelta(days=int(arg) if arg.isdigit() else 30)).isoformat()
            return [
                r["id"]
                for r in self.db.query(
                    base + " AND us.unit_id IN (SELECT unit_id FROM users WHERE unit_id IS NOT NULL GROUP BY unit_id "
                    "HAVING MAX(COALESCE(last_seen, '')) < ?) ORDER BY us.id",
                    [since],
                )
            ]
        if target == "overdue":
            return [
                r["id"]
                for r in self.db.query(
                    base
                    + " AND us.unit_id IN (SELECT unit_id FROM tasks WHERE status = 'open' AND due < ?) ORDER BY us.id",
                    [today or date.today().isoformat()],
                )
            ]
        if target == "all":
            return [r["id"] for r in self.db.query(base + " ORDER BY us.id")]
        if target == "province":
            return [r["id"] for r in self.db.query(base + " AND un.province_code = ? ORDER BY us.id", [int(arg or 0)])]
        if target == "units":
            ids = [int(x) for x in arg.split(",") if x.strip().isdigit()]
            marks = ",".join("?" * len(ids)) or "NULL"
            return [r["id"] for r in self.db.query(base + f" AND us.unit_id IN ({marks}) ORDER BY us.id", ids)]
        if target == "not-done":
            return [
                r["id"]
                for r in self.db.query(
                    base + " AND us.unit_id IS NOT NULL "
                    "AND us.unit_id NOT IN (SELECT unit_id FROM runs WHERE checklist_id = ? "
                    "AND status = 'done' AND unit_id IS NOT NULL) ORDER BY us.id",
                    [arg],
                )
            ]
        return []

    # ------------------------------------------------------------------ unit progress (inspectors)

    def unit_progress(self, today: str = "") -> list[dict]:
        """One row per unit: confirmed and pending members, last activity, finished checklists with the
        latest scores (and when) and quiz figures of confirmed members only, how many runs are
        unconfirmed, and open tasks (overdue: due before ``today``, an ISO date)."""
        units = list(
            self.db.query("""
            SELECT un.id, un.name, un.kind, un.ward_code, un.province_code, un.province_name,
                   COUNT(CASE WHEN us.unit_status = 'confirmed' THEN 1 END) AS members,
                   COUNT(CASE WHEN COALESCE(us.unit_status, 'pending') = 'pending' AND us.id IS NOT NULL THEN 1 END)
                       AS pending, MAX(us.last_seen) AS last_activity
            FROM units un LEFT JOIN users us ON us.unit_id = un.id
            GROUP BY un.id ORDER BY un.province_name, un.name""")
        )
        latest: dict[int, dict] = {}
        last_run: dict[int, str] = {}
        for r in self.db.query("""
                SELECT unit_id, checklist_id, id, score, finished FROM runs r
                WHERE status = 'done' AND unit_id IS NOT NULL
                AND id = (SELECT MAX(id) FROM runs r2 WHERE r2.unit_id = r.unit_id AND r2.checklist_id = r.checklist_id
                          AND r2.status = 'done' AND r2.confirmed = 1)"""):
            latest.setdefault(r["unit_id"], {})[r["checklist_id"]] = (r["id"], r["score"])
            last_run[r["unit_id"]] = max(last_run.get(r["unit_id"]) or "", r["finished"] or "")
        tasks = {
            r[0]: (r[1], r[2])
            for r in self.db.execute(
                "SELECT unit_id, COUNT(*), COUNT(CASE WHEN due < ? THEN 1 END) FROM tasks WHERE status = 'open' "
                "GROUP BY unit_id",
                [today or "0000"],
            )
        }
        unconfirmed = {
            r[0]: r[1]
            for r in self.db.execute(
                "SELECT unit_id, COUNT(*) FROM runs WHERE status = 'done' AND unit_id IS NOT NULL "
                "AND COALESCE(confirmed, 0) = 0 GROUP BY unit_id"
            )
        }
        quiz = {
            r["unit_id"]: r
            for r in self.db.query("""
            SELECT unit_id, COUNT(DISTINCT user_id) AS quiz_takers, AVG(score) AS quiz_avg
            FROM quiz_sessions WHERE status = 'done' AND unit_id IS NOT NULL AND confirmed = 1 GROUP BY unit_id""")
        }
        for u in units:
            u["checklists"] = latest.get(u["id"], {})
            u["last_run"] = last_run.get(u["id"]) or None
            u["open_tasks"], u["overdue_tasks"] = tasks.get(u["id"], (0, 0))
            u["unconfirmed_runs"] = unconfirmed.get(u["id"], 0)
            q = quiz.get(u["id"]) or {}
            u["quiz_takers"] = q.get("quiz_takers") or 0
            u["quiz_avg"] = q.get("quiz_avg")
        return units

    def unit_runs(self, unit_id: int) -> list[dict]:
        """A unit's finished self-assessments, newest first, with who made them."""
        return list(
            self.db.query(
                "SELECT r.*, u.first_name FROM runs r LEFT JOIN users u ON u.id = r.user_id WHERE r.unit_id = ? "
                "AND r.status = 'done' ORDER BY r.id DESC",
                [unit_id],
            )
        )

    def unit_by_ward(self, ward_code: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM units WHERE ward_code = ? ORDER BY id LIMIT 1", [ward_code]))
        return rows[0] if rows else None

    # ------------------------------------------------------------------ questions and answers

    def log_question(
        self, user_id: int, channel: str, normalized: str, outcome: str, entry_id: str | None, score: float | None
    ) -> int:
        """Store one question as the curators need it (folded text, outcome, time, a pseudonym of the
        asker; no verbatim text, no name); returns its id."""
        return self._insert(
            "asked",
            {
                "ts": now_iso(),
                "asker": self.pseudonym(user_id),
                "channel": channel,
                "normalized": normalized,
                "outcome": outcome,
                "entry_id": entry_id,
                "score": score,
            },
        )

    def purge_before(self, days: float) -> dict[str, int]:
        """Forget what is older than ``days``: questions asked, answers shown, chats' last menus; votes
        are kept for the curators' counts but lose who cast them."""
        cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        with self.transaction():
            return {
                "asked": self.db.execute("DELETE FROM asked WHERE ts < ?", [cutoff]).rowcount,
                "shown": self.db.execute("DELETE FROM shown WHERE ts < ?", [cutoff]).rowcount,
                "feedback": self.db.execute(
                    "UPDATE feedback SET user_id = NULL, shown_id = NULL WHERE ts < ? AND user_id IS NOT NULL", [cutoff]
                ).rowcount,
                "screens": self.db.execute("DELETE FROM screens WHERE updated < ?", [cutoff]).rowcount,
            }

    def log_shown(self, user_id: int, entry_id: str, asked_id: int | None, via: str) -> int:
        """Store that an answer was shown to a user; the id keys its feedback buttons."""
        return self._insert(
            "shown", {"ts": now_iso(), "user_id": user_id, "entry_id": entry_id, "asked_id": asked_id, "via": via}
        )

    def get_shown(self, shown_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM shown WHERE id = ?", [shown_id]))
        return rows[0] if rows else None

    def add_feedback(self, user_id: int, shown_id: int, entry_id: str, vote: int) -> bool:
        """Store a 👍 (+1) or 👎 (-1); False if this user already voted on this answer."""
        already = list(self.db.query("SELECT 1 FROM feedback WHERE user_id = ? AND shown_id = ?", [user_id, shown_id]))
        if already:
            return False
        self._insert(
            "feedback", {"ts": now_iso(), "user_id": user_id, "shown_id": shown_id, "entry_id": entry_id, "vote": vote}
        )
        return True

    # ------------------------------------------------------------------ guides

    def save_guide_step(self, user_id: int, guide_id: str, step: int, done: bool = False) -> None:
        """Remember the step a user reached in a guide (one row per user and guide)."""
        self.db.execute(
            "INSERT INTO guide_progress (user_id, guide_id, step, done, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(user_id, guide_id) DO UPDATE SET step=excluded.step, "
            "done=MAX(excluded.done, guide_progress.done), "
            "updated=excluded.updated",
            [user_id, guide_id, step, int(done), now_iso_precise()],
        )

    def guide_progress(self, user_id: int) -> dict[str, dict]:
        """guide id → {guide_id, step, done, updated} for one user."""
        rows = self.db.query("SELECT guide_id, step, done, updated FROM guide_progress WHERE user_id = ?", [user_id])
        return {r["guide_id"]: r for r in rows}

    # ------------------------------------------------------------------ follow-up actions

    def create_task(self, row: dict) -> int:
        return self._insert("tasks", {**row, "status": "open", "created": now_iso(), "reminded": ""})

    def get_task(self, task_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM tasks WHERE id = ?", [task_id]))
        return rows[0] if rows else None

    def update_task(self, task_id: int, **values) -> None:
        cols = [c for c in values if c in SCHEMA["tasks"] and c != "id"]
        sets = ", ".join(f"{c} = ?" for c in cols)
        self.db.execute(f"UPDATE tasks SET {sets} WHERE id = ?", [values[c] for c in cols] + [task_id])

    def tasks(self, *, owner: int | None = None, unit: int | None = None, status: str | None = "open") -> list[dict]:
        """Tasks of an owner or of a unit (with the owner's name), open ones by due date first."""
        where, args = ["1 = 1"], []
        for col, value in (("t.owner_id", owner), ("t.unit_id", unit), ("t.status", status)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        return list(
            self.db.query(
                "SELECT t.*, u.first_name AS owner_name FROM tasks t LEFT JOIN users u ON u.id = t.owner_id "
                f"WHERE {' AND '.join(where)} ORDER BY t.status = 'open' DESC, t.due, t.id",
                args,
            )
        )

    def task_for_item(self, unit_id: int, checklist_id: str, item_id: str) -> dict | None:
        """The latest task made from a checklist item for a unit."""
        rows = list(
            self.db.query(
                "SELECT * FROM tasks WHERE unit_id = ? AND checklist_id = ? AND item_id = ? ORDER BY id DESC LIMIT 1",
                [unit_id, checklist_id, item_id],
            )
        )
        return rows[0] if rows else None

    def tasks_due(self, until: str) -> list[dict]:
        """Open tasks due on or before ``until`` (ISO date), for the owners' reminders."""
        return list(self.db.query("SELECT * FROM tasks WHERE status = 'open' AND due <= ? ORDER BY due, id", [until]))

    def members_of(self, unit_id: int) -> list[dict]:
        """A unit's people (confirmed first), for choosing who owns a task."""
        return list(
            self.db.query(
                "SELECT id, first_name, username, COALESCE(unit_status, 'pending') AS status FROM users "
                "WHERE unit_id = ? ORDER BY unit_status = 'confirmed' DESC, first_name, id",
                [unit_id],
            )
        )

    def add_evidence(
        self, task_id: int, user_id: int, channel: str, kind: str, ref: str, name: str, data: bytes | None
    ) -> int:
        return self._insert(
            "evidence",
            {
                "task_id": task_id,
                "user_id": user_id,
                "channel": channel,
                "kind": kind,
                "ref": ref,
                "name": name,
                "data": data,
                "ts": now_iso(),
            },
        )

    def evidence_of(self, task_id: int) -> list[dict]:
        return list(
            self.db.query(
                "SELECT id, task_id, user_id, channel, kind, ref, name, ts, length(data) AS size "
                "FROM evidence WHERE task_id = ? ORDER BY id",
                [task_id],
            )
        )

    def get_evidence(self, evidence_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM evidence WHERE id = ?", [evidence_id]))
        return rows[0] if rows else None

    # ------------------------------------------------------------------ curator exports

    def unanswered(self) -> list[dict]:
        """Questions the bot did not answer, grouped by normalized text, most frequent first."""
        return list(
            self.db.query(
                """
            SELECT normalized, COUNT(*) AS times, COUNT(DISTINCT asker) AS users, MAX(ts) AS last_asked,
                   (SELECT a3.entry_id FROM asked a3 WHERE a3.normalized = a.normalized ORDER BY a3.id DESC LIMIT 1)
                       AS best_entry,
                   MAX(score) AS best_score, GROUP_CONCAT(DISTINCT outcome) AS outcomes
            FROM asked a
            WHERE outcome != 'answer'
            GROUP BY normalized
            ORDER BY times DESC, last_asked DESC
            """
            )
        )

    def feedback_summary(self) -> list[dict]:
        """👍/👎 counts per entry, most 👎 first."""
        return list(
            self.db.query(
                """
            SELECT entry_id, SUM(vote > 0) AS up, SUM(vote < 0) AS down, MAX(ts) AS last_vote
            FROM feedback GROUP BY entry_id ORDER BY down DESC, up ASC
            """
            )
        )


def to_csv(rows: list[dict], columns: list[str]) -> str:
    """Rows as CSV text with a header line."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()
