"""Type a conversation with the assistant: `make chat` (or `python -m twinteller.chat`).

Each line you type is one turn of one session; the reply is printed with the action,
the recognised intent and confidence, and the zone and model version that served it.
Unary calls with a deadline, retried on UNAVAILABLE as the README tells clients to do.
"""

from __future__ import annotations

import argparse
import json
import uuid

import grpc

from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

# The retry policy every IVR/app backend should use (README "Calling it"): a turn is
# idempotent by (session_id, turn_id), so retrying UNAVAILABLE is always safe.
SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "twinteller.v1.Assistant"}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def channel(target: str) -> grpc.Channel:
    return grpc.insecure_channel(target, options=[("grpc.service_config", SERVICE_CONFIG)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="127.0.0.1:50051", help="router host:port")
    parser.add_argument("--channel", default="app")
    args = parser.parse_args()
    session = uuid.uuid4().hex
    stub = pb_grpc.AssistantStub(channel(args.target))
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


if __name__ == "__main__":
    main()
