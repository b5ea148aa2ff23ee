"""The admin `twinteller.v1.Migration` service: replacing the legacy bot (the cutover
state, the shadow report) and migrating its knowledge (rules -> FAQ entries, log replay).
Same bearer tokens as `Knowledge` (router/api/auth.py); every change is in the audit trail.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import grpc

from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from router.conversation.dialogue import Policy, confident
from router.conversation.knowledge_view import KnowledgeView
from router.conversation.sessions import Context, TurnSummary
from router.conversation.turn import Answerer, Turn
from router.migration.guard import read_slots, read_state
from router.migration.legacy_client import LegacyBot
from router.zones.inference import ModelClient
from twinteller.errors import FailedPrecondition, InvalidArgument, TwintellerError
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.migration.cutover import Cutover, Pair, SystemCounts
from twinteller.migration.plan import LogLine, Migrated, agrees, parse_log, plan, settle, tagged
from twinteller.roles import READ
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import migration_pb2 as mpb

SERVICE_NAME = "twinteller.v1.Migration"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_REPLAY_LINES = 5000
READINGS_PER_RULE = 20  # questions of a rule read by the model to find what it overlaps
PARALLEL = 8  # model readings, or replayed conversations, at once
CALL_S = 10.0  # one model reading or one replayed turn
EXAMPLES = 3
DEFAULT_REPORT_S = 24 * 3600

# A replayed log line: the legacy's rule now, and twinteller's response (None: a system failed).
Replayed = tuple[LogLine, str, pb.ConverseResponse | None]


def _cutover_pb(state: Cutover, revision: int) -> mpb.Cutover:
    return mpb.Cutover(**asdict(state), revision=revision)


def _stats_pb(counts: SystemCounts) -> mpb.SystemStats:
    return mpb.SystemStats(
        asked=counts.asked,
        served=counts.served,
        fallbacks=counts.fallbacks,
        errors=counts.errors,
        fallback_rate=counts.fallback_rate,
        error_rate=counts.error_rate,
        p50_ms=counts.percentile_ms(0.5),
        p99_ms=counts.percentile_ms(0.99),
    )


def _differences(counts: Counter[Pair], examples: Iterable[tuple[Pair, str]]) -> list[mpb.Difference]:
    """The disagreeing (rule, intent, action) pairs, most frequent first, with examples."""
    seen: dict[Pair, list[str]] = defaultdict(list)
    for pair, text in examples:
        if len(seen[pair]) < EXAMPLES and text not in seen[pair]:
            seen[pair].append(text)
    return [
        mpb.Difference(
            legacy_rule=r, twinteller_intent=i, twinteller_action=a, count=n, examples=seen.get((r, i, a), [])
        )
        for (r, i, a), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _bounded(content: bytes, name: str) -> bytes:
    if len(content) > MAX_FILE_BYTES:
        raise InvalidArgument(f"{name}: {len(content)} bytes, at most {MAX_FILE_BYTES}; split the file")
    return content


class MigrationService:
    def __init__(
        self,
        store: Store,
        tokens: Tokens,
        *,
        legacy: LegacyBot | None,
        model: ModelClient,
        knowledge: KnowledgeView,
        policy: Policy,
        answer: Answerer,
        history_turns: int,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._legacy = legacy
        self._model = model
        self._knowledge = knowledge
        self._policy = policy
        self._answer = answer
        self._history = history_turns

    # -- the cutover -----------------------------------------------------------------------
    @boundary
    async def GetCutover(self, raw: Any, context: grpc.aio.ServicerContext) -> mpb.Cutover:
        checked(raw)
        self._tokens.actor(context)
        return _cutover_pb(*await read_state(self._store))

    @boundary
    async def UpdateCutover(self, raw: Any, context: grpc.aio.ServicerContext) -> mpb.Cutover:
        request = checked(raw).cutover
        actor = self._tokens.actor(context, "steer cutover")
        if request.enabled and self._legacy is None:
            raise FailedPrecondition("this router has no legacy bot (--legacy): routers must know it to shadow it")
        now = time.time()
        fields = {f: getattr(request, f) for f in ("enabled", "twinteller_percent", "fallback_margin", "error_margin")}
        fields.update(window_s=request.window_s, min_turns=request.min_turns, reason=request.reason)
        defaults = Cutover()
        # Unset numbers (0) take the defaults, except the percentage, where 0 means 0.
        for name in ("fallback_margin", "error_margin", "window_s", "min_turns"):
            fields[name] = fields[name] or getattr(defaults, name)
        state = Cutover(**fields, updated_by=actor, updated_at=now).validated()
        what = f"enabled={state.enabled} twinteller_percent={state.twinteller_percent}"
        revision = await audited_commit(
            self._store, actor, "cutover", [what, state.reason], at=now,
            puts={keys.CUTOVER: state.to_json()},
            unchanged={keys.CUTOVER: request.revision} if request.revision else {},
            conflict=f"revision: the cutover changed since revision {request.revision}; read it again",
        )  # fmt: skip
        return _cutover_pb(state, revision)

    @boundary
    async def GetShadowReport(self, raw: Any, context: grpc.aio.ServicerContext) -> mpb.ShadowReport:
        request = checked(raw)
        self._tokens.actor(context)
        if request.window_s < 0:
            raise InvalidArgument("window_s: must not be negative")
        until = time.time()
        since = until - (request.window_s or DEFAULT_REPORT_S)
        seen = await read_slots(self._store, since, until)
        recorded = await self._store.newest(keys.CUTOVER_DIFFERENCES, 2000)
        examples = []
        for entry in recorded:
            record = json.loads(entry.value)
            if record["at"] >= since:
                pair = (record["legacy_rule"], record["twinteller_intent"], record["twinteller_action"])
                examples.append((pair, record["text"]))
        return mpb.ShadowReport(
            since=since,
            until=until,
            compared=seen.compared,
            agreed=seen.agreed,
            agreement=seen.agreed / seen.compared if seen.compared else 0.0,
            twinteller=_stats_pb(seen.systems["twinteller"]),
            legacy=_stats_pb(seen.systems["legacy"]),
            differences=_differences(seen.differences, examples),
        )

    # -- migrating the legacy knowledge ------------------------------------------------------
    async def _readings(self, questions: list[str], version: str) -> list[str]:
        """For each question, the entry the active model recognises it as, or ""."""
        snapshot = self._knowledge.snapshot(version)
        gate = asyncio.Semaphore(PARALLEL)

        async def read(question: str) -> str:
            text = self._knowledge.lexicon.model_text(question)
            async with gate:
                result = await self._model.classify(text, version, time.monotonic() + CALL_S)
            return result.intents[0] if confident(result, snapshot, self._policy.for_text(text)) else ""

        return list(await asyncio.gather(*(read(q) for q in questions)))

    async def _settled(self, migrated: list[Migrated]) -> list[Migrated]:
        version = self._knowledge.active_version()
        settled = []
        for item in migrated:
            questions = item.record.questions[:READINGS_PER_RULE]
            settled.append(settle(item, await self._readings(questions, version)))
        return settled

    @boundary
    async def ImportLegacyRules(self, raw: Any, context: grpc.aio.ServicerContext) -> mpb.ImportLegacyRulesResponse:
        request = checked(raw)
        actor = self._tokens.actor(context, READ if request.dry_run else "import legacy rules")
        planned = plan(_bounded(request.rules, "rules"), _bounded(request.logs, "logs"))
        settled = await self._settled(planned.migrated)
        overlapped: dict[str, list[str]] = defaultdict(list)
        for item in settled:
            if item.overlaps:
                overlapped[item.overlaps].append(item.rule)
        response = mpb.ImportLegacyRulesResponse(
            migrated=[
                mpb.MigratedRule(
                    rule=m.rule,
                    faq_id=m.record.id,
                    pattern_questions=m.pattern_questions,
                    log_questions=m.log_questions,
                    enabled=m.record.enabled,
                    overlaps=m.overlaps,
                    catch_all=m.catch_all,
                )
                for m in settled
            ],
            problems=[mpb.LegacyRuleProblem(index=p.index, rule=p.id, reason=p.reason) for p in planned.problems],
            log_lines=planned.log_lines,
            log_lines_unused=planned.log_unused,
            log_problems=planned.log_problems,
        )
        if request.dry_run or not settled:
            return response
        now = time.time()
        puts = {keys.faq(m.record.id): m.record.stamped(actor, now).to_json().encode() for m in settled}
        unchanged: dict[str, int] = {}
        for faq_id, rules in sorted(overlapped.items()):
            entry = await self._store.get(keys.faq(faq_id))
            if entry is None:
                continue  # the active model knows it, the base no more: nothing to tag
            record = tagged(FaqRecord.from_json(entry.value), rules).stamped(actor, now)
            puts[keys.faq(faq_id)] = record.to_json().encode()
            unchanged[keys.faq(faq_id)] = entry.mod_revision
        if len(puts) > faqs.MAX_ROWS:
            raise InvalidArgument(f"rules: {len(puts)} entries to write, at most {faqs.MAX_ROWS} in one migration")
        await audited_commit(
            self._store, actor, "legacy import", [m.record.id for m in settled] + sorted(overlapped), at=now,
            puts=puts, unchanged=unchanged,
            conflict="an entry the migration tags changed meanwhile; nothing written, run it again",
        )  # fmt: skip
        return response

    async def _replay_conversation(self, lines: list[LogLine], prefix: str) -> list[Replayed]:
        """Each logged turn of one conversation through both systems, in order; twinteller
        keeps the conversation's context in memory (nothing is written)."""
        assert self._legacy is not None
        context = Context(started_at=time.time())
        out: list[Replayed] = []
        for n, line in enumerate(lines, 1):
            turn = Turn(f"{prefix}{line.session}", str(n), line.text, line.channel, "")
            text = self._knowledge.lexicon.model_text(line.text)
            deadline = time.monotonic() + CALL_S
            legacy, mine = await asyncio.gather(
                self._legacy.ask(line.text, turn.session_id, line.channel, deadline),
                self._answer(turn, text, context, deadline),
                return_exceptions=True,
            )
            if isinstance(legacy, BaseException) or isinstance(mine, BaseException):
                for failure in (legacy, mine):
                    if isinstance(failure, BaseException) and not isinstance(failure, TwintellerError):
                        raise failure
                out.append((line, "", None))
                continue
            response = mine.response
            summary = TurnSummary(
                turn.turn_id, line.text, pb.Action.Name(response.action), response.intent, line.channel
            )
            context = context.advance(summary, self._history, mine.pending)
            out.append((line, legacy.rule, response))
        return out

    @boundary
    async def ReplayLegacyLog(self, raw: Any, context: grpc.aio.ServicerContext) -> mpb.ReplayReport:
        request = checked(raw)
        self._tokens.actor(context)
        if self._legacy is None:
            raise FailedPrecondition("this router has no legacy bot (--legacy) to replay the log through")
        lines, problems = parse_log(_bounded(request.logs, "logs"))
        if problems:
            raise InvalidArgument(f"logs: {len(problems)} bad line(s): {'; '.join(problems[:10])}")
        if len(lines) > MAX_REPLAY_LINES:
            raise InvalidArgument(f"logs: {len(lines)} lines, at most {MAX_REPLAY_LINES} in one replay; split the file")
        conversations: dict[str, list[LogLine]] = defaultdict(list)
        for line in sorted(lines, key=lambda entry: entry.at):
            conversations[line.session or f"line-{id(line)}"].append(line)
        version = self._knowledge.active_version()
        snapshot = self._knowledge.snapshot(version)
        rules_of = snapshot.legacy_rules
        prefix = f"replay-{uuid.uuid4().hex[:8]}-"
        gate = asyncio.Semaphore(PARALLEL)

        async def replay(group: list[LogLine]) -> list[Replayed]:
            async with gate:
                return await self._replay_conversation(group, prefix)

        results = [r for group in await asyncio.gather(*(replay(g) for g in conversations.values())) for r in group]
        counts: Counter[Pair] = Counter()
        examples: list[tuple[Pair, str]] = []
        agreed = failed = changed = 0
        for line, rule, response in results:
            if response is None:
                failed += 1
                continue
            changed += rule != line.rule
            action = pb.Action.Name(response.action)
            if agrees(rule, response.intent, action, rules_of):
                agreed += 1
            else:
                pair = (rule, response.intent, action)
                counts[pair] += 1
                examples.append((pair, line.text))
        answered = len(results) - failed
        return mpb.ReplayReport(
            turns=len(results),
            agreed=agreed,
            agreement=agreed / answered if answered else 0.0,
            differences=_differences(counts, examples),
            legacy_changed=changed,
            failed=failed,
        )

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "GetCutover": (mpb.GetCutoverRequest, mpb.Cutover),
            "UpdateCutover": (mpb.UpdateCutoverRequest, mpb.Cutover),
            "GetShadowReport": (mpb.GetShadowReportRequest, mpb.ShadowReport),
            "ImportLegacyRules": (mpb.ImportLegacyRulesRequest, mpb.ImportLegacyRulesResponse),
            "ReplayLegacyLog": (mpb.ReplayLegacyLogRequest, mpb.ReplayReport),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
