"""Runs conversation test suites (twinteller/release/suites.py) through this router's own
turn path, pinned to a model version: the same model calls, dialogue policy and session
commits as a customer's turn, on sessions of their own (`test-<run>-<case>`), counted
nowhere (no metrics, no insights, no per-version figures), so a version loaded in the zones
but not active can be judged before any customer sees it."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

from router.conversation.turn import Turn
from router.conversation.turns import TurnHandler
from twinteller.errors import TwintellerError, Unavailable
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.release.results import CaseResult, Observed, RunResult, SuiteResult, TurnResult, differences
from twinteller.release.suites import Suite, TestCase
from twinteller.v1 import assistant_pb2 as pb

# Cases run side by side: a suite of a few hundred turns in seconds, without crowding out
# customers' turns on the same router.
CONCURRENT_CASES = 4
TURN_TIMEOUT_S = 10.0
ACCURACY = ("test_accuracy", "noisy_test_accuracy", "chinese_accuracy")


async def ensure_loaded(store: Store, version: str, timeout_s: float) -> None:
    """Have every zone keep `version` loaded beside what it serves, and wait until each
    registered zone says it has it (the zone agents load it: zone/agent.py)."""
    if await store.get(keys.model_version(version)) is None:
        raise Unavailable(f"version: no trained model version {version!r} (see ListVersions)")
    entry, active = await store.get_many(keys.LOADED_VERSIONS, keys.ACTIVE_VERSION)
    loaded = set(json.loads(entry.value)) if entry is not None else set()
    if version not in loaded:
        wanted = sorted(loaded | {version} | ({active.value.decode()} if active else set()), key=int)
        # Lost to a concurrent deploy: that one's set stands, and the wait below says so.
        await store.commit(
            absent=[], unchanged={keys.LOADED_VERSIONS: entry.mod_revision if entry else 0},
            puts={keys.LOADED_VERSIONS: json.dumps(wanted).encode()},
        )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while True:
        entries, _ = await store.get_prefix(keys.ZONES)
        zones = [json.loads(e.value) for e in entries]
        if zones and all(version in z.get("versions", []) for z in zones):
            return
        if time.monotonic() >= deadline:
            raise Unavailable(f"version: not every zone loaded model version {version} within {timeout_s:.0f}s")
        await asyncio.sleep(0.5)


class SuiteRunner:
    def __init__(self, handler: TurnHandler, store: Store) -> None:
        self._handler = handler  # one built without observers, shadow or unrecognised log
        self._store = store

    async def _case(self, case: TestCase, version: str, session_id: str) -> CaseResult:
        results: list[TurnResult] = []
        for index, step in enumerate(case.turns):  # 0-based, as results.py counts them
            turn = Turn(session_id, str(index + 1), step.text, step.channel, step.locale, pinned_version=version)
            try:
                outcome = await self._handler.handle(turn, time.monotonic() + TURN_TIMEOUT_S)
            except TwintellerError as e:
                return CaseResult(case.name, tuple(results), error=f"turn {index + 1}: {type(e).__name__}: {e}")
            response = outcome.response
            observed = Observed(
                pb.Action.Name(response.action), response.intent, response.reply, response.language,
                dict(outcome.slots), response.model_version,
            )  # fmt: skip
            found = differences(step.expect, observed)
            if response.model_version != version:  # never: the turn was pinned
                found = [*found, f"model_version: expected {version}, got {response.model_version}"]
            results.append(TurnResult(index, step.text, observed, tuple(found)))
        return CaseResult(case.name, tuple(results))

    async def run(self, suites: list[Suite], version: str) -> RunResult:
        started = time.monotonic()
        run_id = secrets.token_hex(4)
        slots = asyncio.Semaphore(CONCURRENT_CASES)

        async def one(case: TestCase, number: int) -> CaseResult:
            async with slots:
                return await self._case(case, version, f"test-{run_id}-{number}")

        results: list[SuiteResult] = []
        number = 0
        for suite in suites:
            tasks = []
            for case in suite.cases:
                number += 1
                tasks.append(one(case, number))
            results.append(SuiteResult(suite.name, tuple(await asyncio.gather(*tasks))))
        entry = await self._store.get(keys.model_version(version))
        report = json.loads(entry.value).get("report", {}) if entry is not None else {}
        accuracy = {name: float(report[name]) for name in ACCURACY if isinstance(report.get(name), int | float)}
        return RunResult(version, tuple(results), accuracy, round(time.monotonic() - started, 3))
