"""`twinteller locate`: from what a complaint gives to every turn of that
conversation, on every router: text (masked), action, intent, zone, model version,
latency, error and trace id, oldest first.

    twinteller locate --session call-42
    twinteller locate --since 2026-11-29T10:00 --until 2026-11-29T10:30 --channel ivr
    twinteller locate --session call-42 --json      # one JSON object a line

`--etcd` finds the routers (default 127.0.0.1:2379); the admin token is `--token` or
TWINTELLER_ADMIN_TOKEN. Times without a zone are local time. Exit status: 0 turns found,
1 none (or a router could not be asked), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys

import grpc
from google.protobuf import json_format

from twinteller.cli import fleet as routers
from twinteller.config import DEFAULT_ETCD, add_transport_arguments, transport_from_arguments
from twinteller.etcd.store import Store
from twinteller.v1 import operations_pb2 as opb
from twinteller.v1 import operations_pb2_grpc as opb_grpc


def when(text: str) -> float:
    """ISO 8601 date-time (local time unless it says) or Unix seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 2026-11-29T10:00[:00][+08:00] or Unix seconds") from None


async def locate(args: argparse.Namespace) -> tuple[list[opb.TurnRecord], dict[str, str]]:
    """Every router's turns for the request, merged by time; and the routers that failed."""
    tls = transport_from_arguments(args)
    async with Store(args.etcd, tls) as store:
        addresses = await routers.registered(store)
    if not addresses:
        return [], {"etcd": "no router is registered"}
    request = opb.LocateTurnsRequest(
        session_id=args.session or "", since=args.since or 0.0, until=args.until or 0.0, channel=args.channel or ""
    )
    metadata = (("authorization", f"Bearer {args.token}"),)

    async def ask(channel: grpc.aio.Channel) -> opb.LocateTurnsResponse:
        stub = opb_grpc.OperationsStub(channel)
        return await stub.LocateTurns(request, metadata=metadata, timeout=args.timeout)

    answers = await routers.ask_all(addresses, ask, tls)
    # Routers hold copies of the other sites' rows: a row is one row wherever it is held.
    unique = {
        (t.router, t.session_id, t.turn_id, t.at): t
        for a in answers.values()
        if isinstance(a, opb.LocateTurnsResponse)
        for t in a.turns
    }
    failed = {r: routers.describe(a) for r, a in answers.items() if isinstance(a, BaseException)}
    return sorted(unique.values(), key=lambda t: (t.at, t.session_id, t.turn_id)), failed


def show(turn: opb.TurnRecord) -> str:
    at = datetime.datetime.fromtimestamp(turn.at).isoformat(timespec="milliseconds")
    outcome = turn.error or f"{turn.action} {turn.intent or '-'}"
    served = f"zone {turn.zone or '-'} v{turn.model_version or '-'} {turn.system}"
    return (
        f"{at}  {turn.session_id}/{turn.turn_id}  {turn.channel or '-':5} {turn.text!r}\n"
        f"    -> {outcome}  ({served}, {turn.latency_ms:.0f} ms, tried {turn.attempts or '-'}, router {turn.router})"
        f"  trace {turn.trace_id}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="twinteller locate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--session", help="the conversation's session id")
    parser.add_argument("--since", type=when, help="start of a time range (with --until, --channel)")
    parser.add_argument("--until", type=when, help="end of the time range (default: now)")
    parser.add_argument("--channel", help="only this channel (with a time range)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument("--etcd", default=os.environ.get("TWINTELLER_ETCD", DEFAULT_ETCD))
    parser.add_argument("--token", default=os.environ.get("TWINTELLER_ADMIN_TOKEN", ""))
    add_transport_arguments(parser)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    if bool(args.session) == bool(args.since):
        parser.error("give --session, or --since (a time range), not both")
    if not args.token:
        parser.error("no admin token: give --token or set TWINTELLER_ADMIN_TOKEN")
    turns, failed = asyncio.run(locate(args))
    for turn in turns:
        if args.json:
            record = json_format.MessageToDict(
                turn, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(show(turn))
    for router, error in failed.items():
        print(f"router {router} not asked: {error}", file=sys.stderr)
    if not args.json:
        print(f"{len(turns)} turn(s)", file=sys.stderr)
    raise SystemExit(0 if turns and not failed else 1)
