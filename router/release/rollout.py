"""Releasing a model version safely: the conversation-test gate every deploy passes, and the
canary's start, share, promotion and abort (twinteller/release/canary.py). The admin
`Deploy` (router/admin/lifecycle_service.py) calls `gate` and `start_canary` through the
composition root; `PromoteCanary`/`AbortCanary` come here through release_service.py.

The gate: every stored suite runs on the version to deploy (loaded in the zones for it, not
active) and on the active version; the deploy is refused, with the failing turns listed,
when the new version passes a smaller share of cases than the active one or less than the
configured floor. Only a proposal an approver accepts may override it, with a reason; the
override and the figures go into the audit trail."""

from __future__ import annotations

import time

from router.conversation.knowledge_view import KnowledgeView
from router.release.canary_guard import read_canary
from router.release.runner import SuiteRunner, ensure_loaded
from twinteller.errors import FailedPrecondition, InvalidArgument, NotFound
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.release.canary import ABORTED, PROMOTED, RUNNING, Canary, Thresholds
from twinteller.release.results import RunResult
from twinteller.release.suites import Suite
from twinteller.v1 import knowledge_pb2 as kpb

SHOWN_FAILURES = 20  # failing turns listed in a refusal (all are in `admin test run`)


def refusal(candidate: RunResult, active: RunResult | None, floor: float) -> str:
    """Why the gate refuses `candidate`, or "" (module docstring)."""
    if candidate.pass_rate < floor:
        return (
            f"version {candidate.version} passes {candidate.pass_rate:.1%} of the conversation tests,"
            f" below the floor {floor:.1%}"
        )
    if active is not None and candidate.pass_rate < active.pass_rate:
        return (
            f"version {candidate.version} passes {candidate.passed}/{candidate.cases} conversation tests"
            f" ({candidate.pass_rate:.1%}), fewer than the active version {active.version}'s"
            f" {active.passed}/{active.cases} ({active.pass_rate:.1%})"
        )
    return ""


def thresholds_of(raw: kpb.CanaryThresholds) -> Thresholds:
    """The request's thresholds, each unset one (0) the default."""
    default = Thresholds()
    return Thresholds(
        min_turns=raw.min_turns or default.min_turns,
        min_ratings=raw.min_ratings or default.min_ratings,
        margin=raw.margin or default.margin,
        z=raw.z or default.z,
        latency_factor=raw.latency_factor or default.latency_factor,
    ).validated()


async def read_suites(store: Store, names: list[str] | None = None) -> list[Suite]:
    entries, _ = await store.get_prefix(keys.TEST_SUITES)
    suites = {e.key[len(keys.TEST_SUITES) :]: Suite.from_json(e.value) for e in entries}
    for name in names or []:
        if name not in suites:
            raise NotFound(f"suites: no test suite {name!r} (see ListTestSuites)")
    return [suites[n] for n in (names or sorted(suites))]


class Rollout:
    def __init__(
        self, store: Store, knowledge: KnowledgeView, runner: SuiteRunner, *, floor: float, load_timeout_s: float
    ) -> None:
        self._store = store
        self._knowledge = knowledge
        self._runner = runner
        self._floor = floor
        self._load_timeout = load_timeout_s

    async def run(self, suites: list[Suite], version: str) -> RunResult:
        await ensure_loaded(self._store, version, self._load_timeout)
        return await self._runner.run(suites, version)

    async def gate(self, version: str, override_reason: str) -> str:
        """A line for the audit trail on what the tests said; FailedPrecondition with the
        failing turns when they refuse `version` and nobody overrode them."""
        suites = await read_suites(self._store)
        if not suites:
            return "no conversation tests to gate on"
        candidate = await self.run(suites, version)
        active_version = self._knowledge.active_version()
        active = await self.run(suites, active_version) if active_version != version else None
        why = refusal(candidate, active, self._floor)
        passed = f"{candidate.passed}/{candidate.cases} conversation tests passed"
        if not why:
            return passed
        if override_reason:
            return f"{passed}; gate overridden ({override_reason}): {why}"
        failing = candidate.failing()
        listed = "\n".join(f"  {line}" for line in failing[:SHOWN_FAILURES])
        more = f"\n  ... and {len(failing) - SHOWN_FAILURES} more" if len(failing) > SHOWN_FAILURES else ""
        raise FailedPrecondition(
            f"deploy refused by the conversation tests: {why}; failing:\n{listed}{more}\n"
            "(an approver may override it: propose the deploy with override_reason)"
        )

    async def check_no_canary(self, what: str) -> None:
        canary, _ = await read_canary(self._store)
        if canary is not None and canary.state == RUNNING:
            raise FailedPrecondition(
                f"a canary of version {canary.version} is running: promote or abort it before {what}"
            )

    async def start_canary(self, request: kpb.DeployRequest, actor: str, override_reason: str) -> str:
        """Start the canary of `request.version`, or change its share; what was done."""
        now = time.time()
        canary, revision = await read_canary(self._store)
        active = self._knowledge.active_version()
        thresholds = thresholds_of(request.thresholds)
        if canary is not None and canary.state == RUNNING:
            if canary.version != request.version:
                raise FailedPrecondition(
                    f"a canary of version {canary.version} is running: promote or abort it before another"
                )
            changed = Canary(
                canary.version,
                canary.baseline,
                request.canary_percent,
                RUNNING,
                canary.started_at,
                now,
                actor,
                "",
                thresholds if request.HasField("thresholds") else canary.thresholds,
            )
            change = [canary.version, f"{canary.percent}% -> {changed.percent}%"]
        else:
            if request.version == active:
                raise FailedPrecondition(f"version: {request.version} is the active version already")
            gated = await self.gate(request.version, override_reason)
            changed = Canary(request.version, active, request.canary_percent, RUNNING, now, now, actor, "", thresholds)
            change = [request.version, f"0% -> {changed.percent}% beside {active}", gated]
        changed.validated()
        await audited_commit(
            self._store, actor, "canary", change, at=now,
            puts={keys.CANARY: changed.to_json()}, unchanged={keys.CANARY: revision},
            conflict="the canary changed meanwhile; read it again (GetRelease)",
        )  # fmt: skip
        return f"version {changed.version} serves {changed.percent}% of new conversations beside {changed.baseline}"

    async def promote(self, actor: str) -> Canary:
        canary, revision = await self._running()
        now = time.time()
        active = await self._store.get(keys.ACTIVE_VERSION)
        if active is None or active.value.decode() != canary.baseline:
            raise FailedPrecondition("the active version changed since the canary began: abort it")
        promoted = canary.ended(PROMOTED, actor, "promoted", now)
        await audited_commit(
            self._store, actor, "canary promote", [canary.version, f"was {canary.baseline}"], at=now,
            puts={
                keys.CANARY: promoted.to_json(),
                keys.ACTIVE_VERSION: canary.version.encode(),
                keys.PREVIOUS_VERSION: canary.baseline.encode(),
            },
            unchanged={keys.CANARY: revision, keys.ACTIVE_VERSION: active.mod_revision},
            conflict="the canary or the active version changed meanwhile; read them again (GetRelease)",
        )  # fmt: skip
        return promoted

    async def abort(self, actor: str, reason: str) -> Canary:
        if len(reason.encode()) > 512:
            raise InvalidArgument("reason: at most 512 bytes")
        canary, revision = await self._running()
        now = time.time()
        aborted = canary.ended(ABORTED, actor, reason or "aborted by hand", now)
        await audited_commit(
            self._store, actor, "canary abort", [canary.version, f"{canary.percent}% -> 0%", aborted.reason], at=now,
            puts={keys.CANARY: aborted.to_json()}, unchanged={keys.CANARY: revision},
            conflict="the canary changed meanwhile; read it again (GetRelease)",
        )  # fmt: skip
        return aborted

    async def _running(self) -> tuple[Canary, int]:
        canary, revision = await read_canary(self._store)
        if canary is None or canary.state != RUNNING:
            state = "no canary" if canary is None else f"the canary of version {canary.version} is {canary.state}"
            raise FailedPrecondition(f"{state}: there is no running canary")
        return canary, revision
