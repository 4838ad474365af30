"""Generated files behind signed, expiring links, for channels that cannot carry a document (Zalo).

A file (a form, a checklist report, a progress export, a chart) is stored in SQLite under a random
token and offered as ``{public_url}/f/{token}/{expires}/{signature}/{file name}``. The signature is an
HMAC-SHA256 over the token and the expiry time, so a link cannot be made up, altered or extended:
a wrong signature gets 403, an expired link 410, an unknown file 404. Links last 24 hours by default
(``files.ttl_hours``). Without ``files.public_url`` nothing is published: the reply says plainly how
else to get the file instead of offering a dead link.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from bot.reply import Attachment

SECRET_SETTING = "files_secret"
PATH_PREFIX = "/f/"


@dataclass(frozen=True)
class Served:
    """What the endpoint answers for a link: an HTTP status, and the file for 200."""

    status: int
    name: str = ""
    mime: str = ""
    data: bytes = b""


class FileLinks:
    """Publishes attachments as signed links and checks the links it made."""

    def __init__(
        self,
        storage,
        public_url: str,
        *,
        secret: str = "",
        ttl_hours: float = 24.0,
        clock: Callable[[], float] = time.time,
    ):
        self.storage = storage
        self.public_url = public_url.rstrip("/")
        self.ttl = int(ttl_hours * 3600)
        self.clock = clock
        if not secret:
            secret = storage.setting(SECRET_SETTING) or ""
            if not secret:
                secret = secrets.token_hex(32)
                storage.set_setting(SECRET_SETTING, secret)
        self.key = secret.encode()

    def sign(self, token: str, expires: int) -> str:
        return hmac.new(self.key, f"{token}.{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def publish(self, attachment: Attachment) -> str | None:
        """The link of a newly stored copy of ``attachment``, or None without a public URL."""
        if not self.public_url:
            return None
        token = secrets.token_urlsafe(12)
        expires = int(self.clock()) + self.ttl
        self.storage.save_file(
            token,
            attachment.file_name,
            attachment.mime,
            attachment.data,
            datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds"),
        )
        return (
            f"{self.public_url}{PATH_PREFIX}{token}/{expires}/{self.sign(token, expires)}/{quote(attachment.file_name)}"
        )

    def open(self, path: str) -> Served:
        """The file a request path names: 403 for a bad signature, 410 when expired, 404 when unknown."""
        at = path.find(PATH_PREFIX)
        parts = path[at + len(PATH_PREFIX) :].split("/") if at >= 0 else []
        if len(parts) != 4 or not parts[1].isdigit():
            return Served(404)
        token, expires, signature = parts[0], int(parts[1]), parts[2]
        if not hmac.compare_digest(signature.encode(), self.sign(token, expires).encode()):
            return Served(403)
        if expires < self.clock():
            return Served(410)
        row = self.storage.get_file(token)
        if row is None:
            return Served(404)
        return Served(200, row["name"], row["mime"], bytes(row["data"]))

    def purge(self) -> int:
        """Delete files whose links have expired; returns how many."""
        now = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        return self.storage.purge_files(now)
