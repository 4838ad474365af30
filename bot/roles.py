"""Roles: officials, the provincial inspection team (inspector) and admins, checked on the server.

Admins are the accounts listed in config.yaml's ``admin_ids`` (``telegram:123`` or a bare Telegram
id, ``zalo:<id>``); inspectors are granted by an admin (/capquyen, ``isobot admin grant``). A role
belongs to the person, so it follows them to every account they linked with /lienket. Every refused
attempt is written to the audit log.
"""

from __future__ import annotations

import logging
import re
import secrets

from bot.actions import Context, Feature, command
from bot.reply import Reply, User

log = logging.getLogger(__name__)
ACCOUNT_RE = re.compile(r"^(?:(telegram|zalo|cli):)?([0-9A-Za-z_-]{1,64})$")


def account_key(value: object) -> str | None:
    """``telegram:123`` for 123, "123" or "telegram:123"; ``zalo:abc`` for "zalo:abc"; ``cli:1`` (the
    terminal chat, ISOBOT_CHAT_USER_ID) for "cli:1"; None otherwise."""
    m = ACCOUNT_RE.match(str(value).strip())
    if not m:
        return None
    channel = m.group(1) or "telegram"
    if channel == "telegram" and not re.fullmatch(r"[1-9][0-9]{0,17}", m.group(2)):
        return None
    return f"{channel}:{m.group(2)}"


def split_key(key: str) -> tuple[str, str]:
    """(channel, account) of an account key made by :func:`account_key`."""
    channel, account = key.split(":", 1)
    return channel, account


class Roles(Feature):
    """Who may do what, and the admin commands that grant and revoke the inspector role."""

    def __init__(self, ctx: Context, admin_ids=frozenset()):
        super().__init__(ctx)
        self.admin_keys = frozenset(k for k in (account_key(a) for a in admin_ids) if k)

    def role_of(self, user: User) -> str:
        """official, inspector or admin."""
        if user.key in self.admin_keys:
            return "admin"
        storage = self.ctx.storage
        if storage is None:
            return "official"
        if self.admin_keys and any(
            f"{a['channel']}:{a['account']}" in self.admin_keys for a in storage.accounts_of(user.id)
        ):
            return "admin"
        return (storage.get_user(user.id) or {}).get("role") or "official"

    def inspectors(self) -> list[int]:
        """Every person with the inspector role, and the admins of config.yaml who have written to the bot."""
        people = [u["id"] for u in self.storage.users_with_role("inspector")]
        for key in sorted(self.admin_keys):
            person = self.storage.person_of(*split_key(key))
            if person is not None and person not in people:
                people.append(person)
        return people

    def require(self, user: User, role: str, action: str = "") -> Reply | None:
        """None when the user may act; otherwise a polite refusal, and the attempt is audit-logged."""
        have = self.role_of(user)
        if have == "admin" or (role == "inspector" and have == "inspector"):
            return None
        if self.ctx.storage:
            self.ctx.storage.audit(user.id, "denied", action or role)
        log.warning("user %s (%s) refused: needs %s for %s", user.key, have, role, action)
        text = self.text("denied", role=self.text(f"denied_{role}"))
        return Reply(toast=text, alert=True).add(text)

    @command("quyen", role="admin", needs_db=True, advertised=False)
    def overview(self, user: User, arg: str = "") -> Reply:
        """/quyen: who the inspectors are and how to grant the role."""
        names = []
        for u in self.storage.users_with_role("inspector"):
            accounts = self.storage.accounts_of(u["id"])
            key = _shown_key(accounts[0]) if accounts else str(u["id"])
            names.append(f"{u['first_name'] or '…'} ({key})")
        return Reply().add(
            self.text("admin_help")
            + "\n"
            + self.text("admin_inspectors", list=", ".join(names) or self.text("admin_none"))
        )

    @command("capquyen", role="admin", needs_db=True, advertised=False)
    def grant(self, user: User, arg: str = "") -> Reply:
        """/capquyen ID: make the person behind an account an inspector; the reply names them, warns
        when the account never wrote to the bot, and the person is told."""
        key = typed_key(arg)
        if key is None:
            return self._usage(user)
        channel, account = split_key(key)
        known = self.storage.person_of(channel, account)
        person = known if known is not None else self.storage.person_for(channel, account)
        self.storage.set_role(person, "inspector")
        self.storage.audit(user.id, "role.grant", _shown(key), "inspector")
        who = self._who(person, key)
        if who is None:
            return Reply().add(self.text("admin_granted_unknown", id=_shown(key)))
        self._tell(person, self.text("admin_granted_msg", admin=user.first_name or self.text("denied_admin")))
        return Reply().add(self.text("admin_granted", who=who))

    @command("thuquyen", role="admin", needs_db=True, advertised=False)
    def revoke(self, user: User, arg: str = "") -> Reply:
        """/thuquyen ID: take the inspector role back (never from an admin of config.yaml)."""
        key = typed_key(arg)
        if key is None:
            return self._usage(user)
        if key in self.admin_keys:
            return Reply().add(self.text("admin_self"))
        channel, account = split_key(key)
        person = self.storage.person_of(channel, account)
        if person is not None:
            self.storage.set_role(person, "official")
        self.storage.audit(user.id, "role.revoke", _shown(key), "inspector")
        who = self._who(person, key) if person is not None else None
        return Reply().add(self.text("admin_revoked", id=who or self.text("admin_someone", id=_shown(key))))

    def _usage(self, user: User) -> Reply:
        return Reply().add(self.say(user, "admin_usage"))

    def _who(self, person: int, key: str) -> str | None:
        """ "Nguyễn Thị Hoa (zalo:5dc5…, Xã Lộc Bình)" for a person who has written to the bot, else None."""
        channel, account = split_key(key)
        row = next(
            (a for a in self.storage.accounts_of(person) if (a["channel"], a["account"]) == (channel, account)), None
        )
        name = (row or {}).get("name") or ""
        if not name:
            return None
        unit = self.storage.unit_of(person)
        return f"{name} ({_shown(key)}{', ' + unit['name'] if unit else ''})"

    def _tell(self, person: int, text: str) -> None:
        """Let the person know, on their channel: a one-recipient broadcast, so it survives a restart."""
        bid = self.storage.create_broadcast(None, f"role-{person}-{secrets.token_hex(4)}", 0, text, [person])
        if bid is not None and self.ctx.scheduler:
            self.ctx.scheduler.broadcast(bid)


def typed_key(arg: str) -> str | None:
    """The account an admin typed after /capquyen: as :func:`account_key` reads it, or a bare Zalo id
    ("5dc57f856315ad7309b4", as /toi shows it without "zalo:")."""
    arg = arg.strip()
    if not arg:
        return None
    key = account_key(arg)
    if key is None and re.fullmatch(r"[0-9a-fA-F]{8,64}", arg) and not arg.isdigit():
        key = f"zalo:{arg}"
    return key


def _shown(key: str) -> str:
    """A key as users read and type it: Telegram ids bare (as /toi shows them), others with their channel."""
    return key.split(":", 1)[1] if key.startswith("telegram:") else key


def _shown_key(account: dict) -> str:
    return _shown(f"{account['channel']}:{account['account']}")


def shown_id(user: User) -> str:
    """The id /toi shows, which an admin types after /capquyen."""
    return _shown(user.key)
