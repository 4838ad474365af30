"""The process's small HTTP endpoint (tornado, already installed for Telegram's webhooks): generated
files at signed links (``GET …/f/<token>/<expires>/<signature>/<name>``) and the Zalo webhook."""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import quote

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.files import FileLinks
from handlers.runner import CoreRunner

log = logging.getLogger(__name__)


class FileHandler(tornado.web.RequestHandler):
    """A file behind a signed link: 200, or 403 (tampered), 410 (expired), 404 (unknown)."""

    def initialize(self, files: FileLinks, runner: CoreRunner) -> None:
        self.files = files
        self.runner = runner

    async def get(self, *_: str) -> None:
        served = await self.runner(self.files.open, self.request.path)
        self.set_status(served.status)
        self.set_header("Cache-Control", "private, no-store")
        if served.status != 200:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish({403: "Liên kết không hợp lệ.", 404: "Không có tệp này.",
                         410: "Liên kết đã hết hạn. Anh/chị yêu cầu lại tệp trong Trợ lý ISO."}.get(served.status, ""))
            return
        self.set_header("Content-Type", served.mime)
        disposition = "inline" if served.mime.startswith("image/") else "attachment"
        self.set_header("Content-Disposition", f"{disposition}; filename*=UTF-8''{quote(served.name)}")
        self.finish(served.data)

    async def head(self, *args: str) -> None:
        await self.get(*args)


class ZaloWebhookHandler(tornado.web.RequestHandler):
    """Updates POSTed by the Zalo platform; a request without the secret header is refused (403)."""

    def initialize(self, channel, secret: str) -> None:
        self.channel = channel
        self.secret = secret

    def post(self) -> None:
        got = self.request.headers.get("X-Bot-Api-Secret-Token", "")
        if not self.secret or not hmac.compare_digest(got.encode(), self.secret.encode()):
            log.warning("Zalo webhook request without the right secret header: refused")
            self.set_status(403)
            self.finish("forbidden")
            return
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError:
            self.set_status(400)
            self.finish("bad json")
            return
        update = body.get("result") if isinstance(body, dict) and "result" in body else body
        self.finish({"ok": True})
        for u in update if isinstance(update, list) else [update]:
            if isinstance(u, dict) and u.get("event_name"):
                self.channel.dispatch(u)


class WebServer:
    """One tornado server for the routes given to it."""

    def __init__(self) -> None:
        self.routes: list = []
        self.server: tornado.httpserver.HTTPServer | None = None

    def add(self, pattern: str, handler: type, **kwargs) -> None:
        self.routes.append((pattern, handler, kwargs))

    def start(self, listen: str, port: int) -> int:
        """Listen (port 0 picks a free one); returns the port."""
        app = tornado.web.Application(self.routes)
        self.server = tornado.httpserver.HTTPServer(app, xheaders=True)
        sockets = tornado.netutil.bind_sockets(port, address=listen)
        self.server.add_sockets(sockets)
        return sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server:
            self.server.stop()
            await self.server.close_all_connections()
