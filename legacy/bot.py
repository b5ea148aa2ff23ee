"""The reference legacy bot: a separate process answering from a regex rule file, as the
closed old system would, over plain HTTP/JSON and over gRPC (router/migration/legacy_client.py has an
adapter for each).

    python -m legacy --rules legacy/data/rules.json --listen 127.0.0.1:8090 \
        --grpc-listen 127.0.0.1:8091 --log run/legacy-conversations.jsonl

HTTP: POST /answer {"text": "...", "session": "...", "channel": "..."} -> {"rule": "<rule
id or empty>", "answer": "..."}; a body that is not a JSON object with a string "text" is
400. GET /health -> {"rules": n}. gRPC: legacybot.v1.LegacyBot/Ask (protos/twinteller/
legacybot/legacybot.proto); an empty text is INVALID_ARGUMENT.

With --log, every answer is appended to a conversation log, one JSON object a line:
{"at", "session", "channel", "text", "rule", "answer"}, the format the migration reads
(`ImportLegacyRules`, `ReplayLegacyLog`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from pathlib import Path
from typing import IO

import grpc
from aiohttp import web

from twinteller.config import legacy_config
from twinteller.legacybot import legacybot_pb2 as lpb
from twinteller.legacybot import legacybot_pb2_grpc as lpb_grpc
from twinteller.migration.rules import RuleBook, parse

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024


class Bot:
    """The rule book, and the conversation log it keeps (if any)."""

    def __init__(self, book: RuleBook, log_file: IO[str] | None = None) -> None:
        self.book = book
        self._log = log_file

    def answer(self, text: str, session: str = "", channel: str = "") -> tuple[str, str]:
        rule, reply = self.book.answer(text)
        if self._log is not None:
            line = {"at": time.time(), "session": session, "channel": channel, "text": text, "rule": rule}
            self._log.write(json.dumps({**line, "answer": reply}, ensure_ascii=False) + "\n")
            self._log.flush()
        return rule, reply


def app(bot: Bot) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "body: not JSON"}, status=400)
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return web.json_response({"error": 'body: {"text": "..."} expected'}, status=400)
        rule, reply = bot.answer(data["text"], str(data.get("session", "")), str(data.get("channel", "")))
        return web.json_response({"rule": rule, "answer": reply})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"rules": len(bot.book.rules)})

    application = web.Application(client_max_size=MAX_BODY)
    application.add_routes([web.post("/answer", answer), web.get("/health", health)])
    return application


class GrpcBot(lpb_grpc.LegacyBotServicer):
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def Ask(self, request: lpb.AskRequest, context: grpc.aio.ServicerContext) -> lpb.AskReply:
        if not request.text:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "text: required")
        rule, reply = self._bot.answer(request.text, request.session, request.channel)
        return lpb.AskReply(rule=rule, answer=reply)


def _host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


async def serve(bot: Bot, listen: str, grpc_listen: str) -> None:
    """Serve until SIGTERM or SIGINT."""
    runner = web.AppRunner(app(bot), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, *_host_port(listen)).start()
    server = None
    if grpc_listen:
        server = grpc.aio.server()
        lpb_grpc.add_LegacyBotServicer_to_server(GrpcBot(bot), server)
        server.add_insecure_port(grpc_listen)
        await server.start()
    log.info("legacy bot: %d rules, HTTP %s, gRPC %s", len(bot.book.rules), listen, grpc_listen or "off")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if server is not None:
        await server.stop(1.0)
    await runner.cleanup()


def main() -> None:
    config = legacy_config()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s legacy %(levelname)s %(message)s")
    rules = Path(config.rules) if config.rules else Path(__file__).with_name("data") / "rules.json"
    book, problems = parse(rules.read_bytes())
    for p in problems:
        log.warning("rule %s (#%d) not loaded: %s", p.id or "?", p.index, p.reason)
    with contextlib.ExitStack() as files:
        log_file = None
        if config.log:
            path = Path(config.log)
            path.parent.mkdir(parents=True, exist_ok=True)
            log_file = files.enter_context(path.open("a", encoding="utf-8"))
        asyncio.run(serve(Bot(book, log_file), config.listen, config.grpc_listen))
