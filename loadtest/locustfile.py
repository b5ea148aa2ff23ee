"""Locust users for twinteller's public gRPC API: realistic conversations built from
BANKING77 *test* queries, through the README's channel (every router, retries on
UNAVAILABLE), with gRPC patched for gevent and one Locust request event per RPC.

- `AppUser` (unary `Converse`, channel "app"): conversations of 1-4 turns; a fifth of the
  turns are follow-ups that only make sense in context ("and how long does that take?"),
  a CLARIFY is answered by picking an option ("the second one", "1"), about one
  conversation in twenty asks for a person (HANDOFF), and a third of the answers get a
  `Feedback` rating, mostly 4-5.
- `IvrUser` (`StreamConverse`, channel "ivr"): one stream per call, 2-5 turns, each sent
  once the last is answered (the IVR plays the reply, then listens), each turn's latency
  measured from its request to its response, named by its kind: "StreamConverse.turn"
  (one transcript), ".nbest" (the recogniser's 2-3 hypotheses, one misheard: "card" heard
  as "car", "PIN" as "pen"), ".dtmf" (a key for a CLARIFY's option, an amount keyed for a
  detail, `*` to hear it again, `0` for a person) and ".no_input" (the caller said nothing).
  `loadtest/ivr_calls.py` chooses each turn from the last reply.

A response for another session or turn than asked counts as a failure, as does any gRPC
error. The run fails (exit code 1) when the failure ratio exceeds `--max-fail-ratio` or
the p99 latency `--max-p99-ms`. Run it with `make loadtest` (loadtest/run.py starts a
local cluster, or takes `--target`), or directly:

    locust -f loadtest/locustfile.py --headless -u 20 -r 5 -t 60s \
        --host 127.0.0.1:50051,127.0.0.1:50052 --csv run/loadtest/report
"""

from __future__ import annotations

import csv
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc.experimental.gevent as grpc_gevent

grpc_gevent.init_gevent()  # before any gRPC object exists: gRPC waits cooperatively

import gevent  # noqa: E402
import gevent.queue  # noqa: E402
import grpc  # noqa: E402
from locust import User, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from loadtest.ivr_calls import ivr_turn  # noqa: E402
from twinteller import client  # noqa: E402
from twinteller.config import transport_from_environment  # noqa: E402
from twinteller.v1 import assistant_pb2 as pb  # noqa: E402
from twinteller.v1 import assistant_pb2_grpc as pb_grpc  # noqa: E402

TEST_SET = Path(__file__).resolve().parent.parent / "twinteller" / "data" / "banking77" / "test.csv"
FOLLOW_UPS = ["and how long does that take?", "what about for a virtual card?", "and how much does that cost?"]
PICKS = ["the second one", "1", "the first one", "2"]
HANDOFF = ["can I talk to a person", "agent please", "I want to speak to a human"]
TIMEOUT_S = 5.0

with TEST_SET.open(newline="", encoding="utf-8") as f:
    QUERIES = [row["text"] for row in csv.DictReader(f)]


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--max-fail-ratio", type=float, default=0.0, help="fail the run above this failure ratio")
    parser.add_argument("--max-p99-ms", type=float, default=2000.0, help="fail the run above this p99 latency")
    parser.add_argument("--think-min", type=float, default=0.5, help="seconds between a user's turns, at least")
    parser.add_argument("--think-max", type=float, default=2.0, help="... and at most")


@events.quitting.add_listener
def _gate(environment: Environment, **_: Any) -> None:
    """Thresholds that fail the run: the exit code says whether it met them."""
    options = environment.parsed_options
    stats = environment.stats.total
    if options is None or not stats.num_requests:
        return
    p99 = stats.get_response_time_percentile(0.99)
    problems = []
    if stats.fail_ratio > options.max_fail_ratio:
        problems.append(f"failure ratio {stats.fail_ratio:.4f} > {options.max_fail_ratio}")
    if p99 > options.max_p99_ms:
        problems.append(f"p99 {p99:.0f} ms > {options.max_p99_ms:.0f} ms")
    for problem in problems:
        print(f"THRESHOLD FAILED: {problem}", flush=True)
    if problems:
        environment.process_exit_code = 1


class Conversations(User):
    """What both users share: a channel over every router, and reporting each call."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self._think = (options.think_min, options.think_max) if options else (0.5, 2.0)
        self._channel = client.channel((self.host or "127.0.0.1:50051").split(","), transport_from_environment())
        self.stub = pb_grpc.AssistantStub(self._channel)

    def wait_time(self) -> float:
        """A customer's pause between turns (and Locust's between tasks)."""
        return random.uniform(*self._think)

    def on_stop(self) -> None:
        self._channel.close()

    def report(self, name: str, started: float, size: int, error: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="grpc",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=size,
            exception=error,
            context={},
        )

    def call(self, name: str, method: Any, request: Any) -> Any:
        started = time.perf_counter()
        try:
            reply = method(request, timeout=TIMEOUT_S)
        except grpc.RpcError as e:
            self.report(name, started, 0, e)
            return None
        error = None
        if name == "Converse" and (reply.session_id, reply.turn_id) != (request.session_id, request.turn_id):
            error = AssertionError(f"reply for {reply.session_id}/{reply.turn_id}, asked {request.turn_id}")
        self.report(name, started, reply.ByteSize(), error)
        return reply


class AppUser(Conversations):
    weight = 3

    def _turn(self, session: str, number: int, text: str) -> pb.ConverseResponse | None:
        request = pb.ConverseRequest(session_id=session, turn_id=str(number), text=text, channel="app", locale="en-GB")
        return self.call("Converse", self.stub.Converse, request)

    @task
    def conversation(self) -> None:
        session = f"locust-app-{uuid.uuid4().hex[:16]}"
        turns = random.randint(1, 4)
        text = random.choice(QUERIES)
        for number in range(1, turns + 1):
            reply = self._turn(session, number, text)
            if reply is None:
                return
            if reply.action == pb.ANSWER and random.random() < 0.3:
                rating = random.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 5])[0]
                feedback = pb.FeedbackRequest(session_id=session, turn_id=str(number), rating=rating)
                self.call("Feedback", self.stub.Feedback, feedback)
            gevent.sleep(self.wait_time())
            if reply.action == pb.CLARIFY and reply.alternatives:
                text = random.choice(PICKS)
            elif random.random() < 0.05:
                text = random.choice(HANDOFF)
            elif random.random() < 0.2:
                text = random.choice(FOLLOW_UPS)
            else:
                text = random.choice(QUERIES)


class IvrUser(Conversations):
    weight = 1

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.rng = random.Random()

    @task
    def call_in(self) -> None:
        session = f"locust-ivr-{uuid.uuid4().hex[:16]}"
        outbox: gevent.queue.Queue[pb.ConverseRequest | None] = gevent.queue.Queue()

        def requests() -> Iterator[pb.ConverseRequest]:
            while (request := outbox.get()) is not None:
                yield request

        stream = self.stub.StreamConverse(requests(), timeout=TIMEOUT_S * 5 + 30)
        reply: pb.ConverseResponse | None = None
        try:
            for number in range(1, random.randint(2, 5) + 1):
                chosen = ivr_turn(reply, self.rng, QUERIES, PICKS)
                if chosen is None:
                    break
                kind, fields = chosen
                if number > 1:
                    gevent.sleep(self.wait_time())  # the caller listens, then answers
                request = pb.ConverseRequest(session_id=session, turn_id=str(number), channel="ivr", **fields)
                started = time.perf_counter()
                outbox.put(request)
                try:
                    reply = next(stream)
                except (grpc.RpcError, StopIteration) as e:
                    lost = e if isinstance(e, grpc.RpcError) else AssertionError("the stream ended unanswered")
                    self.report(f"StreamConverse.{kind}", started, 0, lost)
                    return
                wrong = reply.turn_id != request.turn_id
                error = AssertionError(f"reply for turn {reply.turn_id}, sent {request.turn_id}") if wrong else None
                self.report(f"StreamConverse.{kind}", started, reply.ByteSize(), error)
        finally:
            outbox.put(None)  # the call ends: the stream closes once its last reply is read
            try:
                for _ in stream:
                    pass
            except grpc.RpcError:
                pass  # already reported with the turn it cost
