"""The process's small HTTP endpoint (aiohttp, like the Zalo client): generated files at signed links
(``GET …/f/<token>/<expires>/<signature>/<name>``) and the Zalo webhook."""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import quote

from aiohttp import web

from bot.files import FileLinks
from handlers.runner import CoreRunner

log = logging.getLogger(__name__)
REFUSED = {
    403: "Liên kết không hợp lệ.",
    404: "Không có tệp này.",
    410: "Liên kết đã hết hạn. Anh/chị yêu cầu lại tệp trong Trợ lý ISO.",
}


def file_route(files: FileLinks, runner: CoreRunner):
    """GET a file behind a signed link: 200, or 403 (tampered), 410 (expired), 404 (unknown)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        served = await runner(files.open, request.path)
        headers = {"Cache-Control": "private, no-store"}
        if served.status != 200:
            return web.Response(status=served.status, text=REFUSED.get(served.status, ""), headers=headers)
        disposition = "inline" if served.mime.startswith("image/") else "attachment"
        headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(served.name)}"
        return web.Response(body=served.data, headers={**headers, "Content-Type": served.mime})

    return handle


def zalo_webhook_route(channel, secret: str):
    """Updates POSTed by the Zalo platform; a request without the secret header is refused (403)."""

    async def handle(request: web.Request) -> web.Response:
        got = request.headers.get("X-Bot-Api-Secret-Token", "")
        if not secret or not hmac.compare_digest(got.encode(), secret.encode()):
            log.warning("Zalo webhook request without the right secret header: refused")
            return web.Response(status=403, text="forbidden")
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return web.Response(status=400, text="bad json")
        update = body.get("result") if isinstance(body, dict) and "result" in body else body
        for u in update if isinstance(update, list) else [update]:
            if isinstance(u, dict) and u.get("event_name"):
                channel.dispatch(u)
        return web.json_response({"ok": True})

    return handle


class WebServer:
    """One aiohttp server for the routes given to it."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.runner: web.AppRunner | None = None
        self.has_files = False

    def add_files(self, files: FileLinks, runner: CoreRunner) -> None:
        self.app.router.add_get("/{path:.*}", file_route(files, runner))
        self.has_files = True

    def add_zalo_webhook(self, path: str, channel, secret: str) -> None:
        self.app.router.add_post(path, zalo_webhook_route(channel, secret))

    @property
    def started(self) -> bool:
        return self.runner is not None

    async def start(self, listen: str, port: int) -> int:
        """Listen (port 0 picks a free one); returns the port."""
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, listen, port)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()
