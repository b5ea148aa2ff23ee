"""router/observability/metrics.py: what a turn and a rating add to the Prometheus registry."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from router.observability.metrics import Metrics, channel_label
from twinteller.v1 import assistant_pb2 as pb


def _response(intent: str, action: int, zone: str) -> pb.ConverseResponse:
    return pb.ConverseResponse(session_id="s", turn_id="t", intent=intent, action=action, zone=zone)  # type: ignore[arg-type]


def _value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def _turns(metrics: Metrics, zone: str, channel: str, intent: str, action: str) -> float | None:
    return _value(metrics, "twinteller_turns_total", zone=zone, channel=channel, intent=intent, action=action)


def _calls(metrics: Metrics, zone: str, outcome: str) -> float | None:
    return _value(metrics, "twinteller_model_calls_total", zone=zone, outcome=outcome)


def _failovers(metrics: Metrics) -> float | None:
    return _value(metrics, "twinteller_failovers_total")


def test_turn_labels() -> None:
    metrics = Metrics()
    metrics.observe_turn("app", _response("card_arrival", pb.ANSWER, "zone-a"), ("zone-a",))
    metrics.observe_turn("app", _response("card_arrival", pb.ANSWER, "zone-a"), ("zone-a:ok",))
    metrics.observe_turn("ivr", _response("", pb.FALLBACK, "zone-b"), ("zone-b",))
    metrics.observe_turn("web", _response("card_arrival", pb.CLARIFY, "zone-a"), ("zone-a",))
    assert _turns(metrics, "zone-a", "app", "card_arrival", "ANSWER") == 2
    assert _turns(metrics, "zone-b", "ivr", "", "FALLBACK") == 1
    assert _turns(metrics, "zone-a", "web", "card_arrival", "CLARIFY") == 1
    assert _turns(metrics, "zone-b", "app", "card_arrival", "ANSWER") is None
    # A bare zone is an ok call.
    assert _calls(metrics, "zone-a", "ok") == 3
    assert _calls(metrics, "zone-b", "ok") == 1
    assert _failovers(metrics) == 0


def test_model_call_outcomes_and_failover() -> None:
    metrics = Metrics()
    # The first zone was slow, the hedge to zone-b answered: a failover.
    metrics.observe_turn("app", _response("balance", pb.ANSWER, "zone-b"), ("zone-a:slow", "zone-b:ok"))
    assert _calls(metrics, "zone-a", "slow") == 1
    assert _calls(metrics, "zone-b", "ok") == 1
    assert _calls(metrics, "zone-a", "ok") is None
    assert _failovers(metrics) == 1

    # Slow, hedged, but the first zone answered after all: no failover.
    metrics.observe_turn("app", _response("balance", pb.ANSWER, "zone-a"), ("zone-a:slow", "zone-b:ok"))
    assert _calls(metrics, "zone-a", "slow") == 2
    assert _calls(metrics, "zone-b", "ok") == 2
    assert _failovers(metrics) == 1

    # The first zone failed outright: served by the second.
    metrics.observe_turn("app", _response("balance", pb.ANSWER, "zone-b"), ("zone-a:failed", "zone-b:ok"))
    assert _calls(metrics, "zone-a", "failed") == 1
    assert _failovers(metrics) == 2

    # No model call (e.g. answered without the model): no calls, no failover.
    metrics.observe_turn("app", _response("", pb.HANDOFF, "zone-a"), ())
    assert _failovers(metrics) == 2
    assert (_calls(metrics, "zone-a", "ok"), _calls(metrics, "zone-b", "ok")) == (None, 3)
    assert _turns(metrics, "zone-a", "app", "", "HANDOFF") == 1


def test_channel_label_is_bounded() -> None:
    metrics = Metrics()
    for channel in ("kiosk-1", "kiosk-2", "WEB", "telegram"):
        metrics.observe_turn(channel, _response("balance", pb.ANSWER, "zone-a"), ("zone-a",))
    assert _turns(metrics, "zone-a", "other", "balance", "ANSWER") == 4
    assert _turns(metrics, "zone-a", "kiosk-1", "balance", "ANSWER") is None
    assert channel_label("wechat") == "wechat"
    assert channel_label("") == ""
    assert channel_label("Wechat") == "other"


def test_feedback() -> None:
    metrics = Metrics()
    metrics.observe_feedback("card_arrival", "web", 5)
    metrics.observe_feedback("card_arrival", "web", 5)
    metrics.observe_feedback("card_arrival", "web", 2)
    metrics.observe_feedback("", "kiosk-9", 1)

    def feedback(intent: str, channel: str, rating: str) -> float | None:
        return _value(metrics, "twinteller_feedback_total", intent=intent, channel=channel, rating=rating)

    assert feedback("card_arrival", "web", "5") == 2
    assert feedback("card_arrival", "web", "2") == 1
    assert feedback("", "other", "1") == 1
    assert feedback("", "kiosk-9", "1") is None


def test_registries_are_separate() -> None:
    first, second = Metrics(), Metrics()
    first.observe_turn("app", _response("balance", pb.ANSWER, "zone-a"), ("zone-a",))
    assert _turns(first, "zone-a", "app", "balance", "ANSWER") == 1
    assert _turns(second, "zone-a", "app", "balance", "ANSWER") is None


def test_serve_over_loopback_then_close() -> None:
    metrics = Metrics()
    metrics.observe_turn("app", _response("card_arrival", pb.ANSWER, "zone-a"), ("zone-b:failed", "zone-a:ok"))
    metrics.degraded.set(1)
    port = metrics.serve("127.0.0.1:0")
    try:
        assert port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            assert reply.status == 200
            body = reply.read().decode()
    finally:
        metrics.close()
    assert 'twinteller_turns_total{action="ANSWER",channel="app",intent="card_arrival",zone="zone-a"} 1.0' in body
    assert 'twinteller_model_calls_total{outcome="failed",zone="zone-b"} 1.0' in body
    assert "twinteller_failovers_total 1.0" in body
    assert "twinteller_degraded 1.0" in body
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
    metrics.close()  # twice: a no-op


def test_ivr_turns_are_counted_by_kind_and_hypothesis_answered() -> None:
    metrics = Metrics()
    metrics.observe_ivr("nbest", 2)
    metrics.observe_ivr("nbest", 2)
    metrics.observe_ivr("nbest", 7)
    metrics.observe_ivr("keys", 0)
    assert _value(metrics, "twinteller_ivr_turns_total", kind="nbest", hypothesis="2") == 2
    assert _value(metrics, "twinteller_ivr_turns_total", kind="nbest", hypothesis="4+") == 1
    assert _value(metrics, "twinteller_ivr_turns_total", kind="keys", hypothesis="0") == 1
