"""The reference legacy bot: a separate process answering from a regex rule file over plain
HTTP/JSON, as the closed old system would (issue 6 puts it behind an adapter in the router).

    python -m legacy --rules legacy/data/rules.json --listen 127.0.0.1:8090

POST /answer {"text": "..."} -> {"rule": "<rule id or empty>", "answer": "..."}; a body
that is not a JSON object with a string "text" is 400. GET /health -> {"rules": n}.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from aiohttp import web

from legacy.rules import RuleBook, parse

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024


def app(book: RuleBook) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "body: not JSON"}, status=400)
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return web.json_response({"error": 'body: {"text": "..."} expected'}, status=400)
        rule, reply = book.answer(data["text"])
        return web.json_response({"rule": rule, "answer": reply})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"rules": len(book.rules)})

    application = web.Application(client_max_size=MAX_BODY)
    application.add_routes([web.post("/answer", answer), web.get("/health", health)])
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=Path, default=Path(__file__).with_name("data") / "rules.json")
    parser.add_argument("--listen", default="127.0.0.1:8090")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s legacy %(levelname)s %(message)s")
    book, problems = parse(args.rules.read_bytes())
    for p in problems:
        log.warning("rule %s (#%d) not loaded: %s", p.id or "?", p.index, p.reason)
    host, _, port = args.listen.rpartition(":")
    web.run_app(app(book), host=host.strip("[]"), port=int(port), print=None, access_log=None)
