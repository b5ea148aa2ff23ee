"""router.zones.inference.ModelClient.classify: hedging, retry in the other zone, the retry budget and the deadline.

The per-zone call (`_attempt`) is replaced by a scripted fake, so no Triton is needed; the zone
directory and the retry budget are the real ones. Timings are small (hedge delay 50 ms).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import pytest

from router.zones.budget import RetryBudget
from router.zones.directory import Zone, ZoneDirectory
from router.zones.inference import ModelClient, ModelResult
from twinteller.errors import DeadlineExceeded, ModelCallFailed, Unavailable

HEDGE_S = 0.05
ATTEMPT_S = 0.5
HUNG_S = 10.0  # longer than any test may take: a zone that never answers
BURST = 5.0


@dataclass(frozen=True)
class Script:
    """How one zone behaves: answer (or fail) after `delay` seconds. A zone that honours the
    timeout fails with ModelCallFailed when `delay` is longer, as the real attempt does."""

    delay: float = 0.0
    fail: bool = False
    honours_timeout: bool = True


@dataclass(frozen=True)
class Call:
    zone: str
    started: float
    timeout: float


class ScriptedClient(ModelClient):
    def __init__(
        self,
        directory: ZoneDirectory,
        scripts: dict[str, Script],
        *,
        attempt_timeout_s: float = ATTEMPT_S,
        hedge_delay_s: float = HEDGE_S,
        budget: RetryBudget | None = None,
    ) -> None:
        super().__init__(
            directory,
            "intent",
            attempt_timeout_s=attempt_timeout_s,
            hedge_delay_s=hedge_delay_s,
            budget=budget if budget is not None else RetryBudget(ratio=0.1, min_per_s=0.0, burst=BURST),
            tls=None,
        )
        self.scripts = scripts
        self.calls: list[Call] = []
        self.cancelled: list[str] = []

    async def _attempt(self, zone: Zone, texts: list[str], version: str, timeout: float) -> list[ModelResult]:
        script = self.scripts[zone.name]
        self.calls.append(Call(zone.name, time.monotonic(), timeout))
        try:
            if script.honours_timeout and script.delay > timeout:
                await asyncio.sleep(timeout)
                raise ModelCallFailed(zone.name, f"no answer within {timeout:.3f}s")
            await asyncio.sleep(script.delay)
        except asyncio.CancelledError:
            self.cancelled.append(zone.name)
            raise
        if script.fail:
            raise ModelCallFailed(zone.name, "scripted failure")
        return [ModelResult(zone.name, version, [f"intent-from-{zone.name}:{t}"], [0.9], 0.5) for t in texts]

    def called(self) -> list[str]:
        return [c.zone for c in self.calls]


def directory(*names: str) -> ZoneDirectory:
    d = ZoneDirectory("a", suspect_s=60.0, locality_penalty=4)
    d.set_registrations({n: json.dumps({"endpoint": f"{n}.example:8001"}).encode() for n in names})
    return d


def plan_names(d: ZoneDirectory) -> list[str]:
    return [z.name for z in d.plan()]


def exhausted_budget() -> RetryBudget:
    return RetryBudget(ratio=0.5, min_per_s=0.0, burst=0.0)


def other_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]


async def classify(client: ModelClient, within: float = 2.0) -> ModelResult:
    return await client.classify("where is my card", "1", time.monotonic() + within)


async def test_fast_local_zone_answers_alone_without_spending_budget() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(), "b": Script()})
    result = await classify(client)
    assert result.zone == "a"
    assert result.intents == ["intent-from-a:where is my card"]
    assert result.attempts == ("a:ok",)
    assert client.called() == ["a"]
    assert client.budget.tokens == BURST
    assert plan_names(d) == ["a", "b"]


async def test_result_carries_the_requested_version() -> None:
    client = ScriptedClient(directory("a", "b"), {"a": Script(), "b": Script()})
    result = await client.classify("hi", "7", time.monotonic() + 2.0)
    assert result.version == "7"


async def test_several_texts_are_one_call_hedged_together_and_answered_in_order() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(fail=True), "b": Script()})
    results = await client.classify_many(["lost my car", "lost my card"], "1", time.monotonic() + 2.0)
    assert [r.intents for r in results] == [["intent-from-b:lost my car"], ["intent-from-b:lost my card"]]
    assert all(r.attempts == ("a:failed", "b:ok") for r in results)
    assert client.called() == ["a", "b"]  # one call per zone, not one per text


async def test_hung_zone_is_hedged_and_other_zone_answers_after_hedge_delay() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(delay=HUNG_S, honours_timeout=False), "b": Script()})
    started = time.monotonic()
    result = await classify(client, within=5.0)
    elapsed = time.monotonic() - started
    assert result.zone == "b"
    assert result.attempts == ("a:slow", "b:ok")
    assert client.called() == ["a", "b"]
    hedge_after = client.calls[1].started - client.calls[0].started
    assert hedge_after >= HEDGE_S * 0.9
    assert elapsed < 1.0  # not the hung call's 10 s, nor the attempt timeout
    # The loser was cancelled, not left running, and is now tried last.
    assert client.cancelled == ["a"]
    assert other_tasks() == []
    assert plan_names(d) == ["b", "a"]
    assert client.budget.tokens == BURST - 1


async def test_first_answer_wins_even_if_it_is_the_original_attempt() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(delay=0.15), "b": Script(delay=HUNG_S, honours_timeout=False)})
    result = await classify(client)
    assert result.zone == "a"
    assert result.attempts == ("a:ok", "b:slow")
    assert client.cancelled == ["b"]
    assert plan_names(d) == ["a", "b"]
    assert d.state("b").suspect
    assert not d.state("a").suspect


async def test_failed_hedge_does_not_end_the_call_while_the_first_attempt_may_still_answer() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(delay=0.2), "b": Script(fail=True)})
    result = await classify(client)
    assert result.zone == "a"
    assert result.attempts == ("a:ok", "b:failed")
    assert d.state("b").suspect


async def test_fast_failure_is_retried_in_other_zone_at_once() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(fail=True), "b": Script()}, hedge_delay_s=2.0)
    started = time.monotonic()
    result = await classify(client, within=5.0)
    elapsed = time.monotonic() - started
    assert result.zone == "b"
    assert result.attempts == ("a:failed", "b:ok")
    assert elapsed < 0.5  # did not wait for the 2 s hedge delay
    assert d.state("a").suspect
    assert plan_names(d) == ["b", "a"]
    assert client.budget.tokens == BURST - 1


async def test_both_zones_failing_is_unavailable_naming_both() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(fail=True), "b": Script(fail=True)})
    with pytest.raises(Unavailable) as caught:
        await classify(client)
    message = str(caught.value)
    assert "a:failed" in message and "b:failed" in message
    assert "zone a: scripted failure" in message and "zone b: scripted failure" in message
    assert d.state("a").suspect and d.state("b").suspect
    assert other_tasks() == []


async def test_deadline_shorter_than_every_attempt_is_deadline_exceeded_and_cancels_all() -> None:
    hung = Script(delay=HUNG_S, honours_timeout=False)
    client = ScriptedClient(directory("a", "b"), {"a": hung, "b": hung})
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await classify(client, within=0.2)
    assert time.monotonic() - started < 1.0
    assert client.called() == ["a", "b"]  # hedged within the deadline
    assert sorted(client.cancelled) == ["a", "b"]
    assert other_tasks() == []


async def test_attempt_timeout_never_outlives_the_deadline() -> None:
    client = ScriptedClient(directory("a", "b"), {"a": Script(), "b": Script()}, attempt_timeout_s=5.0)
    await classify(client, within=0.4)
    assert 0.0 < client.calls[0].timeout <= 0.4


async def test_attempt_timeout_caps_each_attempt_when_the_deadline_is_far() -> None:
    client = ScriptedClient(directory("a", "b"), {"a": Script(), "b": Script()}, attempt_timeout_s=0.3)
    await classify(client, within=30.0)
    assert client.calls[0].timeout == 0.3


async def test_spent_deadline_makes_no_attempt() -> None:
    client = ScriptedClient(directory("a", "b"), {"a": Script(), "b": Script()})
    with pytest.raises(DeadlineExceeded):
        await client.classify("hi", "1", time.monotonic() - 1.0)
    assert client.calls == []


async def test_exhausted_budget_does_not_retry_a_failure() -> None:
    d = directory("a", "b")
    client = ScriptedClient(d, {"a": Script(fail=True), "b": Script()}, budget=exhausted_budget())
    with pytest.raises(Unavailable, match="retry budget"):
        await classify(client)
    assert client.called() == ["a"]
    assert client.budget.denied == 1


async def test_exhausted_budget_does_not_hedge_a_hung_zone() -> None:
    d = directory("a", "b")
    client = ScriptedClient(
        d, {"a": Script(delay=HUNG_S), "b": Script()}, budget=exhausted_budget(), attempt_timeout_s=0.3
    )
    started = time.monotonic()
    with pytest.raises(Unavailable, match="retry budget"):
        await classify(client)
    elapsed = time.monotonic() - started
    assert client.called() == ["a"]
    assert elapsed >= 0.3 * 0.9  # waited for zone a's attempt timeout
    assert elapsed < 1.5
    assert client.budget.denied == 2  # the hedge, then the retry after the timeout; no polling in between


async def test_exhausted_budget_still_returns_a_slow_answer_from_the_first_zone() -> None:
    client = ScriptedClient(directory("a", "b"), {"a": Script(delay=0.15), "b": Script()}, budget=exhausted_budget())
    result = await classify(client)
    assert result.attempts == ("a:ok",)
    assert client.called() == ["a"]


async def test_single_zone_is_never_hedged() -> None:
    d = directory("a")
    client = ScriptedClient(d, {"a": Script(delay=4 * HEDGE_S)})
    result = await classify(client)
    assert result.attempts == ("a:ok",)
    assert client.called() == ["a"]
    assert client.budget.tokens == BURST
    assert client.budget.denied == 0


async def test_single_zone_failure_is_unavailable_without_touching_the_budget() -> None:
    d = directory("a")
    client = ScriptedClient(d, {"a": Script(fail=True)})
    with pytest.raises(Unavailable, match="a:failed"):
        await classify(client)
    assert client.budget.tokens == BURST
    assert client.budget.denied == 0


async def test_no_zone_registered_is_unavailable() -> None:
    client = ScriptedClient(directory(), {})
    with pytest.raises(Unavailable, match="no zone"):
        await classify(client)
    assert client.calls == []


async def test_suspect_local_zone_is_tried_second() -> None:
    d = directory("a", "b")
    d.mark_failed("a")
    client = ScriptedClient(d, {"a": Script(), "b": Script()})
    result = await classify(client)
    assert result.attempts == ("b:ok",)
    assert client.called() == ["b"]


async def test_no_token_is_spent_when_the_deadline_leaves_no_room_for_a_hedge() -> None:
    hung = Script(delay=HUNG_S, honours_timeout=False)
    client = ScriptedClient(directory("a", "b"), {"a": hung, "b": hung}, attempt_timeout_s=1.0)
    with pytest.raises(DeadlineExceeded):
        await classify(client, within=0.08)  # at the hedge (50 ms) only 30 ms are left: below MIN_ATTEMPT_S
    assert client.called() == ["a"]
    assert client.budget.tokens == BURST  # no extra call was made, so none should be paid for


def test_the_hedge_waits_longer_when_every_recent_call_was_slow() -> None:
    client = ScriptedClient(directory("a", "b"), {})
    assert client.hedge_delay() == HEDGE_S  # nothing seen yet
    client._recent.extend([0.01] * 200)  # healthy: answers in 10 ms
    assert client.hedge_delay() == HEDGE_S
    client._recent.extend([0.5] * 200)  # saturated: every answer takes half a second
    assert client.hedge_delay() == pytest.approx(2 * 0.5)


async def test_saturated_zones_are_not_hedged_at_the_usual_delay() -> None:
    """Every zone slow because of load: a hedge would only double the work."""
    client = ScriptedClient(directory("a", "b"), {"a": Script(delay=HEDGE_S * 3), "b": Script(delay=HEDGE_S * 3)})
    client._recent.extend([HEDGE_S * 3] * 200)
    result = await classify(client)
    assert result.zone == "a" and client.called() == ["a"]
