"""router/migration/shadow.py: which system a conversation belongs to (`assign`: sticky, old
conversations stay with twinteller, new ones by the hash of their session id), and
`Shadow.answer` with fakes for the legacy bot, the cutover state, the recorder and the
knowledge base: the conversation's system answers, the other one stands in when it
fails, the legacy's reply becomes a ConverseResponse (the FAQ tagged `legacy:<RULE>`
as its intent), and settling the turn compares the two answers (counted; a
disagreement also kept) or, if not committed, records nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, cast

import pytest

from router.conversation.knowledge_view import KnowledgeView
from router.conversation.sessions import Context, TurnSummary
from router.conversation.turn import Answered, Turn
from router.migration.legacy_client import LegacyBot, LegacyReply, LegacySkipped, LegacyUnavailable
from router.migration.shadow import CutoverView, Reading, Shadow, ShadowRecorder, assign
from twinteller.errors import TwintellerError, Unavailable
from twinteller.knowledge.schema import Faq, Snapshot
from twinteller.migration.cutover import LEGACY, TWINTELLER, Cutover
from twinteller.migration.plan import agrees
from twinteller.v1 import assistant_pb2 as pb

LOST_CARD_ANSWER = "Call us now to block the card."
SNAPSHOT = Snapshot(
    "7",
    {
        "lost_or_stolen_card": Faq("lost_or_stolen_card", "Lost card", "Freeze it", tags=("legacy:LOST_CARD",)),
        "opening_hours": Faq("opening_hours", "Opening hours", "9 to 5", tags=("faq",)),
        "card_fees": Faq("card_fees", "Card fees", "None", tags=("legacy:FEES", "legacy:CARD_FEES")),
    },
)


# -- assign -----------------------------------------------------------------------------


def test_a_conversation_keeps_the_system_it_has() -> None:
    assert assign("s1", Context(system=LEGACY), 100) == LEGACY
    assert assign("s1", Context(system=TWINTELLER), 0) == TWINTELLER


def test_a_conversation_begun_before_the_cutover_stays_with_twinteller() -> None:
    context = Context(turns=[TurnSummary("t1", "hello", "ANSWER", "greeting")])

    assert assign("s1", context, 0) == TWINTELLER


def test_new_conversations_all_go_to_the_legacy_at_0_percent() -> None:
    assert {assign(str(uuid.uuid4()), Context(), 0) for _ in range(200)} == {LEGACY}


def test_new_conversations_all_go_to_twinteller_at_100_percent() -> None:
    assert {assign(str(uuid.uuid4()), Context(), 100) for _ in range(200)} == {TWINTELLER}


def test_new_conversations_split_about_evenly_at_50_percent() -> None:
    systems = [assign(str(uuid.uuid4()), Context(), 50) for _ in range(400)]

    assert 0.35 <= systems.count(TWINTELLER) / len(systems) <= 0.65
    assert set(systems) == {TWINTELLER, LEGACY}


def test_the_same_session_id_always_gets_the_same_system() -> None:
    for _ in range(50):
        session_id = str(uuid.uuid4())
        assert len({assign(session_id, Context(), 50) for _ in range(5)}) == 1


def test_raising_the_percentage_never_moves_a_new_conversation_to_the_legacy() -> None:
    for _ in range(100):
        session_id = str(uuid.uuid4())
        if assign(session_id, Context(), 30) == TWINTELLER:
            assert assign(session_id, Context(), 60) == TWINTELLER


# -- fakes ------------------------------------------------------------------------------


class FakeBot:
    def __init__(self, reply: LegacyReply | None = None, *, error: TwintellerError | None = None) -> None:
        self.reply = reply or LegacyReply("LOST_CARD", LOST_CARD_ANSWER)
        self.error = error
        self.delay_s = 0.0
        self.calls: list[tuple[str, str, str, float]] = []
        self.cancelled = False
        self.closed = False

    @property
    def suspect(self) -> bool:
        return False

    async def ask(self, text: str, session: str, channel: str, deadline: float) -> LegacyReply:
        self.calls.append((text, session, channel, deadline))
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return self.reply

    async def close(self) -> None:
        self.closed = True


class FakeView:
    def __init__(self, percent: int) -> None:
        self.cutover = Cutover(enabled=True, twinteller_percent=percent)

    def state(self) -> Cutover:
        return self.cutover


class FakeKnowledge:
    def active_version(self) -> str:
        return "7"

    def snapshot(self, version: str) -> Snapshot:
        assert version == "7"
        return SNAPSHOT


class FakeRecorder:
    def __init__(self) -> None:
        self.counts: list[tuple[Reading, Reading, str, bool | None]] = []
        self.differences: list[tuple[Turn, Reading, Reading]] = []

    def count(self, legacy: Reading, twinteller: Reading, served: str, agreed: bool | None) -> None:
        self.counts.append((legacy, twinteller, served, agreed))

    async def difference(self, turn: Turn, legacy: Reading, twinteller: Reading) -> None:
        self.differences.append((turn, legacy, twinteller))


class FakeTwinteller:
    """The `twinteller` callable of Shadow.answer: an answer, or an error."""

    def __init__(
        self, intent: str = "lost_or_stolen_card", action: int = pb.ANSWER, *, error: TwintellerError | None = None
    ) -> None:
        self.intent = intent
        self.action = action
        self.error = error
        self.calls: list[tuple[Turn, str, Context, float]] = []

    async def __call__(self, turn: Turn, text: str, context: Context, deadline: float) -> Answered:
        self.calls.append((turn, text, context, deadline))
        if self.error is not None:
            raise self.error
        response = pb.ConverseResponse(
            session_id=turn.session_id,
            turn_id=turn.turn_id,
            reply="twinteller says so",
            action=cast(Any, self.action),
            intent=self.intent,
            confidence=0.9,
            model_version="7",
            system=TWINTELLER,
        )
        return Answered(response, ("a:ok",))


class Setup:
    def __init__(self, percent: int, bot: FakeBot | None = None) -> None:
        self.bot = bot or FakeBot()
        self.view = FakeView(percent)
        self.recorder = FakeRecorder()
        self.legacy_calls: list[str] = []
        self.shadow = Shadow(
            cast(LegacyBot, self.bot),
            cast(CutoverView, self.view),
            cast(ShadowRecorder, self.recorder),
            cast(KnowledgeView, FakeKnowledge()),
            on_legacy_call=self.legacy_calls.append,
        )

    async def answer(
        self, twinteller: FakeTwinteller | None = None, context: Context | None = None, turn: Turn | None = None
    ) -> Answered:
        turn = turn or TURN
        return await self.shadow.answer(
            turn, turn.text, context or Context(), time.monotonic() + 5, twinteller or FakeTwinteller()
        )

    async def settled(self, answered: Answered, committed: bool = True) -> None:
        assert answered.settle is not None
        answered.settle(committed)
        await asyncio.sleep(0)
        pending = list(self.shadow._comparisons)
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending), 2)
        await asyncio.sleep(0.01)


TURN = Turn("session-1", "turn-1", "I lost my card", "web", "en")
LEGACY_ONLY = 0  # every new conversation is the legacy's
TWINTELLER_ONLY = 100


# -- who answers -------------------------------------------------------------------------


async def test_a_legacy_conversation_gets_the_legacy_answer() -> None:
    setup = Setup(LEGACY_ONLY)

    answered = await setup.answer()

    response = answered.response
    assert response.system == LEGACY
    assert response.model_version == LEGACY
    assert response.reply == LOST_CARD_ANSWER
    assert response.action == pb.ANSWER
    assert (response.session_id, response.turn_id) == (TURN.session_id, TURN.turn_id)
    assert answered.attempts == ("legacy",)


async def test_the_legacy_rule_becomes_the_faq_tagged_with_it() -> None:
    setup = Setup(LEGACY_ONLY)

    answered = await setup.answer()

    assert answered.response.intent == "lost_or_stolen_card"
    assert answered.response.confidence == pytest.approx(1.0)


async def test_a_faq_tagged_with_several_rules_is_found_by_each() -> None:
    setup = Setup(LEGACY_ONLY, FakeBot(LegacyReply("FEES", "No fees.")))

    answered = await setup.answer()

    assert answered.response.intent == "card_fees"


async def test_a_legacy_rule_no_faq_is_tagged_with_becomes_legacy_rule_intent() -> None:
    setup = Setup(LEGACY_ONLY, FakeBot(LegacyReply("OPENING_HOURS", "9 to 5.")))

    answered = await setup.answer()

    assert answered.response.intent == "legacy:OPENING_HOURS"
    assert answered.response.action == pb.ANSWER


async def test_a_legacy_reply_with_no_rule_is_a_fallback_with_no_intent() -> None:
    setup = Setup(LEGACY_ONLY, FakeBot(LegacyReply("", "Sorry?")))

    answered = await setup.answer()

    assert answered.response.action == pb.FALLBACK
    assert answered.response.intent == ""
    assert answered.response.reply == "Sorry?"
    assert answered.response.confidence == 0.0


async def test_a_twinteller_conversation_gets_twintellers_answer() -> None:
    setup = Setup(TWINTELLER_ONLY)

    answered = await setup.answer()

    assert answered.response.system == TWINTELLER
    assert answered.response.reply == "twinteller says so"
    assert answered.attempts == ("a:ok",)


async def test_both_systems_are_asked() -> None:
    setup = Setup(TWINTELLER_ONLY)
    twinteller = FakeTwinteller()

    await setup.answer(twinteller)
    await asyncio.sleep(0.01)

    assert len(twinteller.calls) == 1
    assert [call[:3] for call in setup.bot.calls] == [(TURN.text, TURN.session_id, TURN.channel)]


async def test_a_conversation_with_a_system_keeps_it_whatever_the_percentage() -> None:
    setup = Setup(TWINTELLER_ONLY)

    answered = await setup.answer(context=Context(system=LEGACY))

    assert answered.response.system == LEGACY


async def test_a_twinteller_conversation_does_not_wait_for_a_slow_legacy() -> None:
    bot = FakeBot()
    bot.delay_s = 10.0
    setup = Setup(TWINTELLER_ONLY, bot)

    answered = await asyncio.wait_for(setup.answer(), 2)
    await setup.settled(answered, committed=False)

    assert answered.response.system == TWINTELLER
    assert bot.cancelled


# -- when one fails ------------------------------------------------------------------------


async def test_a_legacy_failure_serves_twintellers_answer() -> None:
    setup = Setup(LEGACY_ONLY, FakeBot(error=LegacyUnavailable("refused")))

    answered = await setup.answer()

    assert answered.response.system == TWINTELLER
    assert setup.legacy_calls == ["failed"]


async def test_a_skipped_legacy_serves_twintellers_answer() -> None:
    setup = Setup(LEGACY_ONLY, FakeBot(error=LegacySkipped("suspect")))

    answered = await setup.answer()

    assert answered.response.system == TWINTELLER
    assert setup.legacy_calls == ["skipped"]


async def test_a_twinteller_failure_serves_the_legacy_answer_in_a_twinteller_conversation() -> None:
    setup = Setup(TWINTELLER_ONLY)

    answered = await setup.answer(FakeTwinteller(error=Unavailable("no zone answered")))

    assert answered.response.system == LEGACY
    assert answered.response.reply == LOST_CARD_ANSWER


@pytest.mark.parametrize("percent", [LEGACY_ONLY, TWINTELLER_ONLY])
async def test_when_both_fail_twintellers_error_is_raised(percent: int) -> None:
    setup = Setup(percent, FakeBot(error=LegacyUnavailable("refused")))
    error = Unavailable("no zone answered")

    with pytest.raises(Unavailable) as raised:
        await setup.answer(FakeTwinteller(error=error))

    assert raised.value is error


# -- the comparison ------------------------------------------------------------------------


async def test_settling_an_agreeing_turn_counts_it_as_agreed() -> None:
    setup = Setup(TWINTELLER_ONLY)

    answered = await setup.answer(FakeTwinteller("lost_or_stolen_card", pb.ANSWER))
    await setup.settled(answered)

    assert len(setup.recorder.counts) == 1
    legacy, mine, served, agreed = setup.recorder.counts[0]
    assert (legacy.system, mine.system, served, agreed) == (LEGACY, TWINTELLER, TWINTELLER, True)
    assert legacy.rule == "LOST_CARD"
    assert setup.recorder.differences == []


async def test_settling_a_disagreeing_turn_counts_it_and_keeps_the_difference() -> None:
    setup = Setup(LEGACY_ONLY)

    answered = await setup.answer(FakeTwinteller("opening_hours", pb.ANSWER))
    await setup.settled(answered)

    assert [(served, agreed) for _, _, served, agreed in setup.recorder.counts] == [(LEGACY, False)]
    assert len(setup.recorder.differences) == 1
    turn, legacy, mine = setup.recorder.differences[0]
    assert turn == TURN
    assert legacy.rule == "LOST_CARD"
    assert mine.answered is not None and mine.answered.response.intent == "opening_hours"


RULES_OF = SNAPSHOT.legacy_rules


@pytest.mark.parametrize(
    ("rule", "intent", "action", "agreed"),
    [
        ("LOST_CARD", "lost_or_stolen_card", pb.ANSWER, True),
        ("LOST_CARD", "opening_hours", pb.ANSWER, False),
        ("OPENING_HOURS", "opening_hours", pb.ANSWER, False),
        ("", "", pb.FALLBACK, True),
        ("", "", pb.HANDOFF, True),
        ("", "opening_hours", pb.ANSWER, False),
        ("CARD_FEES", "card_fees", pb.ANSWER, True),
    ],
)
async def test_agreement_is_judged_by_migration_agrees(rule: str, intent: str, action: int, agreed: bool) -> None:
    assert agrees(rule, intent, pb.Action.Name(cast(Any, action)), RULES_OF) is agreed
    setup = Setup(TWINTELLER_ONLY, FakeBot(LegacyReply(rule, "legacy words")))

    answered = await setup.answer(FakeTwinteller(intent, action))
    await setup.settled(answered)

    assert [counted for *_, counted in setup.recorder.counts] == [agreed]
    assert len(setup.recorder.differences) == (0 if agreed else 1)


async def test_a_turn_one_system_failed_is_counted_but_not_compared() -> None:
    setup = Setup(LEGACY_ONLY, FakeBot(error=LegacyUnavailable("refused")))

    answered = await setup.answer()
    await setup.settled(answered)

    assert len(setup.recorder.counts) == 1
    legacy, mine, served, agreed = setup.recorder.counts[0]
    assert legacy.answered is None and legacy.error is not None
    assert mine.answered is not None
    assert (served, agreed) == (TWINTELLER, None)
    assert setup.recorder.differences == []


async def test_a_turn_served_by_the_stand_in_counts_the_stand_in_as_served() -> None:
    setup = Setup(TWINTELLER_ONLY)

    answered = await setup.answer(FakeTwinteller(error=Unavailable("no zone answered")))
    await setup.settled(answered)

    assert [(served, agreed) for _, _, served, agreed in setup.recorder.counts] == [(LEGACY, None)]


async def test_a_turn_not_committed_records_nothing() -> None:
    setup = Setup(TWINTELLER_ONLY)

    answered = await setup.answer(FakeTwinteller("opening_hours", pb.ANSWER))
    await setup.settled(answered, committed=False)

    assert setup.recorder.counts == []
    assert setup.recorder.differences == []


async def test_nothing_is_recorded_before_the_turn_is_settled() -> None:
    setup = Setup(TWINTELLER_ONLY)

    await setup.answer(FakeTwinteller("opening_hours", pb.ANSWER))
    await asyncio.sleep(0.05)

    assert setup.recorder.counts == []


async def test_close_closes_the_legacy_bot() -> None:
    setup = Setup(TWINTELLER_ONLY)

    await setup.shadow.close()

    assert setup.bot.closed


def test_shadowing_is_active_while_the_cutover_is_enabled() -> None:
    setup = Setup(50)
    assert setup.shadow.active()

    setup.view.cutover = Cutover(enabled=False)
    assert not setup.shadow.active()
