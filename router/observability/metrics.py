"""Live metrics for Prometheus, one endpoint per router (`--metrics-listen`, `/metrics`).

- RPCs: `twinteller_rpc_total{method,code}` and `twinteller_rpc_seconds{method}` (a
  histogram), recorded by `MetricsInterceptor` for every public and admin RPC;
- turns: `twinteller_turns_total{zone,channel,intent,action}`, one per answered turn (a
  replayed retry is not counted twice); recognition rate = ANSWER / all, handoff rate =
  HANDOFF / all (the Grafana dashboard computes both);
- model calls: `twinteller_model_calls_total{zone,outcome}` (ok, failed, slow: a hedge was
  sent), `twinteller_failovers_total` (turns served by a zone other than the first tried);
- satisfaction: `twinteller_feedback_total{intent,channel,rating}` and
  `twinteller_feedback_rating{intent,channel}` (a summary: mean = _sum / _count);
- languages: `twinteller_replies_total{language}` (en, zh-Hant, zh-Hans) and
  `twinteller_untranslated_replies_total{language,intent,source}`: answers not written in
  the reply's language, served from `source` ("zh-Hans converted", "en") instead, by FAQ
  entry, so knowledge managers see what to translate;
- state: `twinteller_degraded` (1 while etcd is unreachable), `twinteller_leader`,
  `twinteller_conflicts_reconciled_total` (sessions served on both sides of a partition, merged);
- replacing the legacy bot: `twinteller_legacy_calls_total{outcome}` (ok, failed, skipped:
  not asked because it failed moments ago); a turn the legacy served counts in
  `twinteller_turns_total` with zone "legacy".

Labels stay bounded: a channel outside `KNOWN_CHANNELS` is counted as "other", an intent
is an FAQ id or "" (FALLBACK), a zone is a configured zone name, a language one of ours.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, start_http_server

from router.observability.interceptors import around
from twinteller.v1 import assistant_pb2 as pb

KNOWN_CHANNELS = frozenset({"", "app", "ivr", "web", "chat", "sms", "wechat", "eval", "load"})
UNMEASURED_PREFIXES = ("/grpc.health.", "/grpc.reflection.")
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 2.0, 5.0)


def channel_label(channel: str) -> str:
    return channel if channel in KNOWN_CHANNELS else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rpcs = Counter("twinteller_rpc", "RPCs by method and status code", ["method", "code"], registry=r)
        self.rpc_seconds = Histogram(
            "twinteller_rpc_seconds", "RPC latency", ["method"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.turns = Counter("twinteller_turns", "Answered turns", ["zone", "channel", "intent", "action"], registry=r)
        self.model_calls = Counter("twinteller_model_calls", "Model calls by zone", ["zone", "outcome"], registry=r)
        # IVR turns by kind (transcript, nbest, keys, no_input) and, for an n-best list, the
        # position of the hypothesis answered: how often the recogniser's first guess was not.
        self.ivr_turns = Counter(
            "twinteller_ivr_turns", "IVR turns by kind and hypothesis answered", ["kind", "hypothesis"], registry=r
        )
        self.failovers = Counter(
            "twinteller_failovers", "Turns served by a zone other than the first tried", registry=r
        )
        self.feedback = Counter("twinteller_feedback", "Feedback ratings", ["intent", "channel", "rating"], registry=r)
        self.rating = Summary(
            "twinteller_feedback_rating", "Feedback ratings (mean = sum / count)", ["intent", "channel"], registry=r
        )
        self.degraded = Gauge("twinteller_degraded", "1 while etcd is unreachable", registry=r)
        self.conflicts = Counter(
            "twinteller_conflicts_reconciled", "Sessions served on both sides of a partition, merged", registry=r
        )
        self.leader = Gauge("twinteller_leader", "1 while this router leads", registry=r)
        self.legacy_calls = Counter("twinteller_legacy_calls", "Calls to the legacy bot", ["outcome"], registry=r)
        self.replies = Counter("twinteller_replies", "Replies by language", ["language"], registry=r)
        self.untranslated = Counter(
            "twinteller_untranslated_replies",
            "Answers not written in the reply's language, by where they came from",
            ["language", "intent", "source"],
            registry=r,
        )
        # Per model version, for a canary beside the active version (README "Releases").
        self.version_turns = Counter(
            "twinteller_version_turns", "Turns answered, by model version and action", ["version", "action"], registry=r
        )
        self.version_rephrases = Counter(
            "twinteller_version_rephrases",
            "Turns whose intent the previous turn had just answered (asked again: a wrong-answer proxy)",
            ["version"],
            registry=r,
        )
        self.version_errors = Counter(
            "twinteller_version_errors", "Turns that failed after a model version was chosen", ["version"], registry=r
        )
        self.version_ratings = Counter(
            "twinteller_version_ratings", "Feedback ratings by model version", ["version", "rating"], registry=r
        )
        self.version_seconds = Histogram(
            "twinteller_version_turn_seconds", "Turn latency by model version", ["version"], registry=r
        )
        self._server: Any = None

    def observe_turn(self, channel: str, response: pb.ConverseResponse, attempts: tuple[str, ...]) -> None:
        action = pb.Action.Name(response.action)
        zone = response.zone or response.system  # the legacy bot has no zone
        self.turns.labels(zone, channel_label(channel), response.intent, action).inc()
        for attempt in attempts:
            zone, _, outcome = attempt.partition(":")
            self.model_calls.labels(zone, outcome or "ok").inc()
        if response.zone and attempts and attempts[0].partition(":")[0] != response.zone:
            self.failovers.inc()

    def observe_ivr(self, kind: str, hypothesis: int) -> None:
        """An IVR turn; `hypothesis`: 1-based, 0 when no n-best was sent (positions past 3
        are counted together, so the label stays small)."""
        self.ivr_turns.labels(kind, str(hypothesis) if hypothesis <= 3 else "4+").inc()

    def observe_language(self, response: pb.ConverseResponse, untranslated: str) -> None:
        if response.language:
            self.replies.labels(response.language).inc()
        if untranslated:
            self.untranslated.labels(response.language, response.intent, untranslated).inc()

    def observe_version_turn(self, version: str, action: str, rephrase: bool, seconds: float) -> None:
        self.version_turns.labels(version, action).inc()
        if rephrase:
            self.version_rephrases.labels(version).inc()
        self.version_seconds.labels(version).observe(seconds)

    def observe_legacy_call(self, outcome: str) -> None:
        self.legacy_calls.labels(outcome).inc()

    def observe_feedback(self, intent: str, channel: str, rating: int) -> None:
        self.feedback.labels(intent, channel_label(channel), str(rating)).inc()
        self.rating.labels(intent, channel_label(channel)).observe(rating)

    def serve(self, listen: str) -> int:
        """Serve /metrics on host:port (port 0: a free one); returns the port."""
        host, _, port = listen.rpartition(":")
        self._server, _ = start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0", registry=self.registry)
        return int(self._server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Count and time every RPC by method and final status code."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    @contextlib.contextmanager
    def _measured(self, method: str, context: grpc.aio.ServicerContext) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            code = context.code()
            name = code.name if isinstance(code, grpc.StatusCode) else "OK"
            self._metrics.rpcs.labels(method, name).inc()
            self._metrics.rpc_seconds.labels(method).observe(time.monotonic() - started)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or method.startswith(UNMEASURED_PREFIXES):
            return handler
        return around(handler, lambda context: self._measured(method.lstrip("/"), context))
