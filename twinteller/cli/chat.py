"""Type a conversation with the assistant: `make chat` (or `twinteller chat`).

Each line you type is one turn of one session; the reply is printed with the action,
the recognised intent and confidence, and the zone and model version that served it.
Unary calls with a deadline, through the channel the README tells clients to use
(twinteller/client.py: all routers, retries on UNAVAILABLE).
"""

from __future__ import annotations

import argparse
import uuid

import grpc

from twinteller.client import channel
from twinteller.config import add_transport_arguments, transport_from_arguments
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="twinteller chat", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--target", default="127.0.0.1:50051,127.0.0.1:50052", help="router host:port, or several comma-separated"
    )
    parser.add_argument("--channel", default="app")
    add_transport_arguments(parser)
    args = parser.parse_args(argv)
    session = uuid.uuid4().hex
    stub = pb_grpc.AssistantStub(channel(args.target.split(","), transport_from_arguments(args)))
    print(f"session {session} on {args.target}; empty line or Ctrl-D to quit")
    turn = 0
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            break
        if not text:
            break
        turn += 1
        request = pb.ConverseRequest(session_id=session, turn_id=str(turn), text=text, channel=args.channel)
        try:
            reply = stub.Converse(request, timeout=5.0)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}")
            continue
        print(f"bot> {reply.reply}")
        print(
            f"     [{pb.Action.Name(reply.action)} {reply.intent or '-'} {reply.confidence:.2f}"
            f" zone={reply.zone} model=v{reply.model_version} trace={reply.trace_id}]"
        )
