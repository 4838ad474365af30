"""Who really belongs to a unit.

Anyone can say they work for a commune, so a person who registers (/donvi) is *pending* until the
inspection team vouches for them, in one of two ways:

- the unit's **join code**, which the team hands out (/maxa lists every commune and ward of the
  province with its code, as .xlsx); the person types it right after choosing the unit, or later
  from /toi;
- an inspector **confirms** them (/thanhvien lists who is waiting, oldest first).

Only confirmed members' self-assessments and quizzes count in the unit's figures (/tiendo); the
rest are shown apart as unconfirmed, never mixed in. A code is derived from a secret kept in the
database and the unit's official code, so every commune has one before anyone registers; /maxa
can replace one that leaked.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from enum import StrEnum

from bot import nav
from bot.actions import Action, Feature, Id, Index, command, prompt
from bot.home import home_row, main_menu
from bot.reply import Attachment, Reply, User, short
from bot.text import fold, local_date, safe_cell, vn_date

CODE_DIGITS = 8
CODE_EXAMPLE = "1234 5678"  # how a code is shown (:func:`shown`), in the prompts
JOIN_MINUTES, JOIN_TRIES = 15, 5  # wrong join codes allowed per person in that many minutes
PAGE = 5  # pending members per screen

SKIP = Action("jl", name="join.later")
ENTER = Action("je", name="join.enter")
CONFIRM = Action("mc", Id("user"), Id("unit"), Index("page"), role="inspector", name="member.confirm")
REJECT = Action("mr", Id("user"), Id("unit"), Index("page"), role="inspector", name="member.reject")
PENDING = Action("mp", Index("page"), role="inspector", name="member.pending")
ROTATE = Action("mk", Id("ward"), role="inspector", name="join.rotate")
# The generation the confirmation was shown for: a second press, or an old one, changes nothing.
ROTATE_YES = Action("mn", Id("ward"), Index("generation"), role="inspector", name="join.rotate-confirmed")


class JoinPrompt(StrEnum):
    CODE = "join_code"  # waiting for the unit's join code


def unit_key(unit: dict) -> str:
    """What a join code is derived from: the official code of a commune/ward, else the unit's id."""
    return f"ward:{unit['ward_code']}" if unit.get("ward_code") else f"unit:{unit['id']}"


def join_code(storage, key: str) -> str:
    """The unit's current join code, 8 digits."""
    secret = storage.setting("join_secret")
    if secret is None:
        secret = secrets.token_hex(32)
        storage.set_setting("join_secret", secret)
    generation = storage.setting(f"join_gen:{key}") or "0"
    digest = hmac.new(bytes.fromhex(secret), f"{key}:{generation}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def shown(code: str) -> str:
    """'12345678' → '1234 5678': easier to read out over the phone."""
    return f"{code[:4]} {code[4:]}"


class Members(Feature):
    """Join codes, pending members and their confirmation by the inspection team."""

    # ------------------------------------------------------------------ the person who registered

    def after_registering(self, user: User, unit_id: int) -> Reply:
        """Right after /donvi: inspectors and admins are trusted; anyone else is asked for the code."""
        trusted = self.ctx.roles.role_of(user) != "official"
        self.storage.set_user_unit(user.id, unit_id, confirmed=trusted, by=user.id if trusted else None)
        unit = self.storage.get_unit(unit_id)
        if unit is None:  # /donvi picked it from the units a moment ago
            raise LookupError(f"no unit {unit_id}")
        label = f"{unit['name']} ({unit['province_name']})"
        if trusted:
            self.storage.clear_prompt(user.id)
            return Reply(buttons=main_menu(self.ctx, user)).add(self.text("unit_saved", unit=label))
        return self.ask_code(user, self.text("unit_saved_pending", unit=label) + "\n\n")

    def ask_code(self, user: User, before: str = "") -> Reply:
        """Wait for the join code: the prompt ends with what to type (a question there was answered
        instead of the code being typed)."""
        self.storage.set_prompt(user.id, JoinPrompt.CODE)
        return self._code_reply(user, before + self._say_code(user, "join_prompt"))

    def _say_code(self, user: User, key: str) -> str:
        return self.say(user, key, digits=CODE_DIGITS, example=CODE_EXAMPLE)

    def _code_reply(self, user: User, text: str) -> Reply:
        return Reply(buttons=[[SKIP.button(self.text("join_later_btn"))]]).add(text)

    def _moves_on(self, user: User, text: str) -> bool:
        """Text typed at the code prompt that is no code but something else the bot answers: a question
        it knows, a menu name ("tự đánh giá"), or words for a checklist or quiz in progress."""
        if self.ctx.searcher.search(text).matched:
            return True
        if self.storage.open_runs(user.id) or self.storage.open_quiz(user.id):
            return True
        folded = re.sub(self.text("shortcut_fillers"), "", fold(text)).strip()
        patterns = (v for k, v in self.kb.ui.items() if k.startswith("shortcut_patterns_"))
        return bool(folded) and any(re.fullmatch(p, folded) for p in patterns)

    @ENTER
    def enter(self, user: User) -> Reply:
        """ "Nhập mã tham gia" on /toi, for a pending member."""
        if self.storage.membership(user.id) != "pending":
            return Reply(buttons=main_menu(self.ctx, user)).add(self.text("join_not_pending"))
        return self.ask_code(user)

    @SKIP
    def later(self, user: User) -> Reply:
        self.storage.clear_prompt(user.id)
        return Reply(buttons=main_menu(self.ctx, user)).add(self.text("join_later"))

    @prompt(JoinPrompt.CODE)
    def code_typed(self, user: User, data: dict, text: str) -> Reply | None:
        """The join code. Text without a digit that the bot answers otherwise (a question, a menu name,
        "đạt" for a checklist…) is read as usual (None: the prompt ends); any other ("dạ", "mã ở
        đâu ạ") is told it is no code, and the prompt stays."""
        if not re.search(r"\d", text):
            if self._moves_on(user, text):
                return None
            return self._code_reply(user, self._say_code(user, "join_not_code"))
        digits = re.sub(r"[\s.-]", "", text)
        unit = self.storage.unit_of(user.id)
        if unit is None or self.storage.membership(user.id) != "pending":
            self.storage.clear_prompt(user.id)
            return Reply(buttons=main_menu(self.ctx, user)).add(self.text("join_not_pending"))
        if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", digits):
            if self.ctx.searcher.search(text).matched:  # "khoản 9.2 là gì": a question, not a code
                return None
            return self._code_reply(user, self._say_code(user, "join_format"))
        if self.storage.failures(user.id, "join", JOIN_MINUTES) >= JOIN_TRIES:
            return Reply(buttons=[[SKIP.button(self.text("join_later_btn"))]]).add(
                self.text("join_locked", minutes=JOIN_MINUTES)
            )
        if not hmac.compare_digest(digits, join_code(self.storage, unit_key(unit))):
            self.storage.record_failure(user.id, "join")
            return Reply(buttons=[[SKIP.button(self.text("join_later_btn"))]]).add(self.text("join_bad"))
        self.storage.confirm_member(user.id, None)
        self.storage.clear_prompt(user.id)
        self.storage.audit(user.id, "member.join", str(unit["id"]), "code")
        return Reply(buttons=main_menu(self.ctx, user)).add(self.text("join_ok", unit=unit["name"]))

    # ------------------------------------------------------------------ the inspection team

    def _province(self, user: User) -> int | None:
        unit = self.storage.unit_of(user.id)
        return unit["province_code"] if unit else (self.ctx.province.code if self.ctx.province else None)

    @command("thanhvien", role="inspector", needs_db=True, advertised=False)
    def pending(self, user: User, arg: str = "", page: int = 0, mode: str = "send", notice: str = "") -> Reply:
        """/thanhvien: who is waiting to be confirmed as a member of a unit of the province."""
        waiting = self.storage.pending_members(self._province(user))
        pages = max(1, -(-len(waiting) // PAGE))
        page = min(page, pages - 1)
        r = Reply(mode=mode)
        if notice:
            r.add(notice + "\n\n", "i")
        if not waiting:
            r.buttons = [home_row(self.ctx)]
            return r.add(self.text("members_none"))
        r.add(self.text("members_title", n=len(waiting)) + "\n", "b")
        rows = []
        for m in waiting[page * PAGE : (page + 1) * PAGE]:
            name = m["first_name"] or "…"
            who = f"{name} (@{m['username']})" if m["username"] else name
            r.add(
                "\n• "
                + self.text(
                    "members_row",
                    who=who,
                    unit=m["unit_name"],
                    channel=self.text(f"channel_{m['channel'] or 'telegram'}"),
                    since=vn_date(local_date(m["unit_since"], self.ctx.tz)),
                )
            )
            rows.append(
                [
                    CONFIRM.button(short(f"✅ {name} – {m['unit_name']}"), m["id"], m["unit_id"], page),
                    REJECT.button(short(self.text("members_reject_btn", who=name)), m["id"], m["unit_id"], page),
                ]
            )
        if pages > 1:
            rows.append(
                [PENDING.button(self.text("members_page", page=p + 1), p) for p in range(pages) if p != page][:6]
            )
        rows.append(home_row(self.ctx))
        r.buttons = rows
        return r

    @nav.MEMBERS
    def pressed(self, user: User) -> Reply:
        return self.pending(user)

    @PENDING
    def page(self, user: User, page: int) -> Reply:
        return self.pending(user, page=page, mode="edit")

    @CONFIRM
    def confirm(self, user: User, member: int, unit_id: int, page: int) -> Reply | None:
        row = self.storage.get_user(member)
        if not row or row["unit_id"] != unit_id or self.storage.membership(member) != "pending":
            return None
        unit = self.storage.confirm_member(member, user.id)
        if unit is None:  # decided meanwhile (another inspector, or the person left)
            return None
        self.storage.audit(user.id, "member.confirm", str(member), str(unit_id))
        self._tell(member, user, self.text("member_confirmed_msg", unit=unit["name"]))
        return self.pending(
            user,
            page=page,
            mode="edit",
            notice=self.text("members_confirmed", who=row["first_name"] or "…", unit=unit["name"]),
        )

    @REJECT
    def reject(self, user: User, member: int, unit_id: int, page: int) -> Reply | None:
        row, unit = self.storage.get_user(member), self.storage.get_unit(unit_id)
        if not row or not unit or not self.storage.reject_member(member, unit_id):
            return None
        self.storage.audit(user.id, "member.reject", str(member), str(unit_id))
        self._tell(member, user, self.text("member_rejected_msg", unit=unit["name"]))
        return self.pending(
            user,
            page=page,
            mode="edit",
            notice=self.text("members_rejected", who=row["first_name"] or "…", unit=unit["name"]),
        )

    def _tell(self, member: int, inspector: User, text: str) -> None:
        """Let the person know, on their channel: a one-recipient broadcast, so it survives a restart."""
        bid = self.storage.create_broadcast(None, f"member-{member}-{secrets.token_hex(4)}", 0, text, [member])
        if bid is not None and self.ctx.scheduler:
            self.ctx.scheduler.broadcast(bid)

    @command("maxa", role="inspector", needs_db=True, advertised=False)
    def codes(self, user: User, arg: str = "") -> Reply:
        """/maxa: every commune and ward of the province with its join code (.xlsx); /maxa NAME: the
        code of one, with a button to replace it."""
        from bot import units  # the official list is loaded only where a screen shows units

        province = self._province(user)
        if arg.strip():
            places = units.match_wards(arg[:100], province, limit=4)
            if not places:
                return Reply().add(self.text("codes_not_found", text=arg.strip()[:60]))
            # The same communes in the same order whatever was typed ("Lộc Bình", "loc ninh"): the
            # inspector's province first, then by name and province.
            places.sort(key=lambda p: (p.province_code != province, fold(p.name), fold(p.province_name)))
            r = Reply().add(self.text("codes_title_one") + "\n", "b")
            rows = []
            for p in places:
                r.add(
                    "\n" + self.text("codes_row", unit=p.label, code=shown(join_code(self.storage, f"ward:{p.code}")))
                )
                rows.append([ROTATE.button(short(self.text("codes_rotate_btn", unit=p.label)), p.code)])
            r.buttons = rows + [home_row(self.ctx)]
            return r
        places = sorted(
            (p for p in units.wards().values() if province is None or p.province_code == province),
            key=lambda p: (p.province_name, p.name),
        )
        caption = self.text("codes_caption", n=len(places))
        return Reply(attachment=Attachment("ma-tham-gia.xlsx", self._workbook(places), caption)).add(caption)

    def _workbook(self, places) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.worksheet.worksheet import Worksheet

        wb = Workbook()
        ws = wb.active
        assert isinstance(ws, Worksheet), "a new workbook has one worksheet"
        ws.title = self.text("codes_sheet")
        ws.append([self.text(k) for k in ("codes_col_code", "codes_col_unit", "codes_col_province", "codes_col_join")])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for p in places:
            ws.append(
                [
                    p.code,
                    safe_cell(p.name),
                    safe_cell(p.province_name),
                    shown(join_code(self.storage, f"ward:{p.code}")),
                ]
            )
        for col, width in zip("ABCD", (12, 34, 24, 14), strict=True):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A2"
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    @ROTATE
    def rotate(self, user: User, ward: int) -> Reply | None:
        """«Đổi mã»: ask first, naming the commune with its province and the code that will stop working."""
        from bot import units

        place = units.wards().get(ward)
        if place is None:
            return None
        key = f"ward:{place.code}"
        province = self._province(user)
        elsewhere = (
            self.text("codes_rotate_elsewhere", province=place.province_name)
            if province is not None and place.province_code != province
            else ""
        )
        rows = [
            [
                ROTATE_YES.button(
                    short(self.text("codes_rotate_yes", unit=place.label)), place.code, self._generation(key)
                )
            ],
            home_row(self.ctx),
        ]
        text = self.text("codes_rotate_ask", unit=place.label, code=shown(join_code(self.storage, key)))
        return Reply(buttons=rows).add(text + (f"\n{elsewhere}" if elsewhere else ""))

    @ROTATE_YES
    def rotate_confirmed(self, user: User, ward: int, generation: int) -> Reply | None:
        """Replace the code, once: a confirmation pressed again (or after another change) changes nothing."""
        from bot import units

        place = units.wards().get(ward)
        if place is None:
            return None
        key = f"ward:{place.code}"
        code = shown(join_code(self.storage, key))
        if self._generation(key) != generation:
            return Reply(buttons=[home_row(self.ctx)]).add(
                self.text("codes_rotated_already", unit=place.label, code=code)
            )
        self.storage.set_setting(f"join_gen:{key}", str(generation + 1))
        self.storage.audit(user.id, "join.rotate", key)
        return Reply().add(self.text("codes_rotated", unit=place.label, code=shown(join_code(self.storage, key))))

    def _generation(self, key: str) -> int:
        return int(self.storage.setting(f"join_gen:{key}") or 0)
