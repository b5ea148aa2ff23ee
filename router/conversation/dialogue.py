"""The dialogue policy: what to say, given the customer's words, what the model recognised
and the conversation so far.

In order, a turn is:
1. a request for a person ("agent", "转人工") → HANDOFF, with a summary for the agent;
2. the answer to what the last turn left open: a choice among the options of a CLARIFY
   ("the second one", "2", words of an option's title), or the details an answer needs
   (slot filling: re-asked at most twice, "cancel"/"skip" or a new question gets out);
3. otherwise a question of its own. A short follow-up ("and how long does that take?") is
   also recognised together with the previous turn's words, and that reading wins when it
   is the more confident one. Then: FALLBACK when the model is unsure or the text is far
   from every training question (HANDOFF instead after `handoff_after` in a row); CLARIFY
   when the second intent is close to the first (at least `clarify_ratio` of its
   probability); else ANSWER, first asking for the details the FAQ needs if they are missing.

Pure code over plain values, so unit tests drive it without etcd or Triton.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from router.conversation import phrases, slots
from router.conversation.sessions import Context, Pending
from router.zones.inference import ModelResult
from twinteller.knowledge.masking import mask
from twinteller.knowledge.schema import Faq, Snapshot
from twinteller.knowledge.text import mostly_cjk

FALLBACK_REPLY = (
    "Sorry, I'm not sure I understood that. I can help with your cards, payments, transfers, "
    "top-ups, exchange and account security. Could you say it another way?"
)
FALLBACK_REPLY_REPEATED = (
    "Sorry, I still didn't catch that. Please describe your banking question in a few words, "
    "for example 'my card hasn't arrived' or 'how do I top up'."
)
HANDOFF_REPLY = "I'll pass you to one of my colleagues now; they will see what we have talked about."
CLARIFY_REPLY = "Did you mean one of these?"
MAX_ALTERNATIVES = 4
MAX_OPTIONS = 3  # a CLARIFY offers at most this many options (IVR menus stay short)
MAX_REPROMPTS = 2  # details asked for again at most this often before answering without them
CONFIDENT = 0.5  # during slot filling, a new question this confident leaves the slot flow


@dataclass(frozen=True)
class Candidate:
    intent: str
    confidence: float
    title: str


@dataclass(frozen=True)
class Decision:
    action: str  # "ANSWER" | "CLARIFY" | "HANDOFF" | "FALLBACK"
    reply: str
    intent: str
    confidence: float
    alternatives: list[Candidate]
    pending: Pending = field(default_factory=Pending)  # what the next turn may answer
    handoff_summary: str = ""
    result: ModelResult | None = None  # the model reading the decision rests on
    unrecognised: bool = False  # the model could not place the text: recorded for insights


@dataclass(frozen=True)
class Policy:
    confidence: float  # FALLBACK below this top-1 probability
    similarity: float  # FALLBACK below this cosine to the nearest training question
    clarify_ratio: float = 0.5  # CLARIFY when the second intent has this share of the first's
    handoff_after: int = 3  # this many FALLBACKs in a row become a HANDOFF
    cjk_confidence: float = 0.07  # `confidence` for mostly-Chinese text (twinteller/config.py)

    def for_text(self, text: str) -> Policy:
        """The policy for reading `text`: Chinese is recognised by character n-grams alone,
        whose probabilities are flatter than the two heads' average."""
        return replace(self, confidence=self.cjk_confidence) if mostly_cjk(text) else self


def decide(
    text: str,
    result: ModelResult,
    snapshot: Snapshot,
    context: Context,
    policy: Policy,
    follow_up: ModelResult | None = None,
    channel: str = "",
) -> Decision:
    """`follow_up`: the reading of the previous turn's words plus these, when the turn
    looks like a follow-up (router/conversation/phrases.py). An FAQ's answer for `channel` is used
    when it has one (a short one for "ivr")."""
    policy = policy.for_text(text)
    if phrases.wants_human(text):
        return _handoff("the customer asked for a person", text, context, snapshot, result)
    pending = context.pending
    if pending.slot_intent in snapshot.faqs:
        decision = _fill_slots(text, result, snapshot.faqs[pending.slot_intent], pending, policy, channel)
        if decision is not None:
            return decision
    if pending.options:
        chosen = _chosen(text, result, [o for o in pending.options if o in snapshot.faqs], snapshot)
        if chosen is not None:
            # Details come from the question that was clarified and from the choice ("the
            # transfer one, 500 euros"), but never from a bare position ("2" is no amount).
            asked = context.turns[-1].text if context.turns else ""
            details = asked if phrases.is_ordinal(text) else f"{asked} {text}"
            return _answer(details, snapshot.faqs[chosen], 1.0, [], result, channel)
    reading = _better(result, follow_up, snapshot, policy)
    return _question(text, reading, snapshot, context, policy, channel)


def _candidates(result: ModelResult, snapshot: Snapshot) -> list[Candidate]:
    return [
        Candidate(i, s, snapshot.faqs[i].title)
        for i, s in zip(result.intents, result.scores, strict=True)
        if i in snapshot.faqs
    ]


def confident(result: ModelResult, snapshot: Snapshot, policy: Policy) -> bool:
    candidates = _candidates(result, snapshot)
    return bool(candidates) and candidates[0].confidence >= policy.confidence and result.similarity >= policy.similarity


def _better(result: ModelResult, follow_up: ModelResult | None, snapshot: Snapshot, policy: Policy) -> ModelResult:
    if follow_up is None or not confident(follow_up, snapshot, policy):
        return result
    if not confident(result, snapshot, policy):
        return follow_up
    mine, theirs = _candidates(result, snapshot)[0], _candidates(follow_up, snapshot)[0]
    return follow_up if theirs.confidence > mine.confidence else result


def _question(
    text: str, result: ModelResult, snapshot: Snapshot, context: Context, policy: Policy, channel: str
) -> Decision:
    candidates = _candidates(result, snapshot)
    if not confident(result, snapshot, policy):
        best = candidates[0].confidence if candidates else 0.0
        if context.consecutive_fallbacks + 1 >= policy.handoff_after:
            reason = f"{context.consecutive_fallbacks + 1} questions in a row were not understood"
            return _handoff(reason, text, context, snapshot, result, unrecognised=True)
        reply = FALLBACK_REPLY_REPEATED if context.consecutive_fallbacks else FALLBACK_REPLY
        return Decision("FALLBACK", reply, "", best, candidates[:MAX_ALTERNATIVES], result=result, unrecognised=True)
    top = candidates[0]
    close = [c for c in candidates[1:MAX_OPTIONS] if c.confidence >= policy.clarify_ratio * top.confidence]
    if close:
        options = [top, *close]
        lines = [f"{n}. {c.title}" for n, c in enumerate(options, 1)]
        reply = " ".join([CLARIFY_REPLY, *lines])
        pending = Pending(options=[c.intent for c in options])
        return Decision("CLARIFY", reply, "", top.confidence, options, pending, result=result)
    alternatives = candidates[1 : 1 + MAX_ALTERNATIVES]
    return _answer(text, snapshot.faqs[top.intent], top.confidence, alternatives, result, channel)


def _answer(
    text: str,
    faq: Faq,
    confidence: float,
    alternatives: list[Candidate],
    result: ModelResult,
    channel: str,
) -> Decision:
    """ANSWER with `faq` (its answer for `channel`), or first ask for the details it needs."""
    if not faq.slots:
        return Decision("ANSWER", faq.answer_for(channel), faq.id, confidence, alternatives, result=result)
    filled = slots.extract(faq.slots, text)
    missing = [name for name in faq.slots if name not in filled]
    if not missing:
        return Decision("ANSWER", faq.slot_answer.format(**filled), faq.id, confidence, alternatives, result=result)
    pending = Pending(slot_intent=faq.id, slots=filled)
    return Decision("CLARIFY", slots.prompt(missing), faq.id, confidence, [], pending, result=result)


def _fill_slots(
    text: str, result: ModelResult, faq: Faq, pending: Pending, policy: Policy, channel: str
) -> Decision | None:
    """The reply to a turn that answers a slot question; None when it is a new question."""
    if phrases.cancels(text):
        return Decision("ANSWER", faq.answer_for(channel), faq.id, 1.0, [], result=result)
    found = slots.extract(faq.slots, text)
    if not found:
        confident = result.scores and result.scores[0] >= CONFIDENT and result.similarity >= policy.similarity
        if confident and result.intents[0] != faq.id:
            return None  # the customer moved on to something else
        if pending.reprompts >= MAX_REPROMPTS:
            return Decision("ANSWER", faq.answer_for(channel), faq.id, 1.0, [], result=result)  # the way out
    filled = {**pending.slots, **found}
    missing = [name for name in faq.slots if name not in filled]
    if not missing:
        return Decision("ANSWER", faq.slot_answer.format(**filled), faq.id, 1.0, [], result=result)
    again = Pending(slot_intent=faq.id, slots=filled, reprompts=pending.reprompts + (0 if found else 1))
    return Decision("CLARIFY", slots.prompt(missing), faq.id, 1.0, [], again, result=result)


def _chosen(text: str, result: ModelResult, options: list[str], snapshot: Snapshot) -> str | None:
    """The option a reply to a CLARIFY picks, by position, by title words, or because the
    model recognises one of the options; None when it is a new question."""
    index = phrases.choice(text, [snapshot.faqs[o].title for o in options])
    if index is not None:
        return options[index]
    if result.intents and result.intents[0] in options and result.scores[0] >= CONFIDENT:
        return result.intents[0]
    return None


def _handoff(
    reason: str, text: str, context: Context, snapshot: Snapshot, result: ModelResult, *, unrecognised: bool = False
) -> Decision:
    topics = []
    for turn in context.turns:
        title = snapshot.faqs[turn.intent].title if turn.intent in snapshot.faqs else ""
        if title and title not in topics:
            topics.append(title)
    # The summary is stored with the turn: what the customer said, masked.
    said = [mask(t.text) for t in context.turns[-3:]] + [mask(text)]
    summary = "; ".join(
        [
            f"Handoff: {reason}",
            f"{len(context.turns) + 1} turns",
            "topics: " + (", ".join(topics) or "none recognised"),
            "customer said: " + " | ".join(f'"{s}"' for s in said),
        ]
    )
    return Decision(
        "HANDOFF", HANDOFF_REPLY, "", 0.0, [], handoff_summary=summary, result=result, unrecognised=unrecognised
    )
