"""The dialogue policy: what to say, given the customer's words, what the model recognised
and the conversation so far.

In order, a turn is:
0. on the IVR (router/voice): no input (the caller said nothing), or keys the open question
   cannot use → FALLBACK that asks the open question again, HANDOFF after `handoff_after` in
   a row (no input and no match count together); `*` alone → the last prompt or answer again;
1. a request for a person ("agent", "转人工", key 0 alone) → HANDOFF, with a summary for the agent;
2. the answer to what the last turn left open: a choice among the options of a CLARIFY
   ("the second one", "2", words of an option's title, a key on the IVR), or the details an
   answer needs (slot filling, said or keyed: re-asked at most twice, "cancel"/"skip" or a
   new question gets out);
3. a greeting and nothing else ("hi", "你好", "早晨") → a greeting that asks what they need
   (a CLARIFY with no options; not a fallback, not recorded as unrecognised);
4. otherwise a question of its own. A short follow-up ("and how long does that take?") is
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
from router.conversation.messages import MESSAGES
from router.conversation.sessions import Context, Pending
from router.voice import keypad
from router.voice.hypotheses import Reading
from router.voice.keypad import Keys
from router.zones.inference import ModelResult
from twinteller.knowledge import languages
from twinteller.knowledge.masking import mask
from twinteller.knowledge.schema import Faq, Localized, Snapshot
from twinteller.knowledge.text import reads_chinese

# In English; every language's are in twinteller/data/dialogue.json (router/conversation/messages.py).
FALLBACK_REPLY = MESSAGES.text("fallback", languages.EN)
FALLBACK_REPLY_REPEATED = MESSAGES.text("fallback_repeated", languages.EN)
HANDOFF_REPLY = MESSAGES.text("handoff", languages.EN)
CLARIFY_REPLY = MESSAGES.text("clarify", languages.EN)
MAX_ALTERNATIVES = 4
MAX_OPTIONS = 3  # a CLARIFY offers at most this many options (IVR menus stay short)
MAX_REPROMPTS = 2  # details asked for again at most this often before answering without them
CONFIDENT = 0.5  # during slot filling, a new question this confident leaves the slot flow
IVR = "ivr"
NO_KEYS = Keys("none")
# An FAQ with this tag is a disclosure the caller must hear whole: its answer has no barge-in.
NO_BARGE_IN = "voice:no-barge-in"


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
    language: str = languages.EN  # of the reply and the alternatives' titles
    # The answer was not written in `language`: where it came from ("zh-Hans converted", "en").
    untranslated: str = ""
    slots: dict[str, str] = field(default_factory=dict)  # the details given, once all are (conversation tests)


@dataclass(frozen=True)
class Policy:
    confidence: float  # FALLBACK below this top-1 probability
    similarity: float  # FALLBACK below this cosine to the nearest training question
    clarify_ratio: float = 0.5  # CLARIFY when the second intent has this share of the first's
    handoff_after: int = 3  # this many FALLBACKs in a row become a HANDOFF
    cjk_confidence: float = 0.07  # `confidence` for text read as Chinese (twinteller/config.py)
    agent_language: str = languages.EN  # the handoff summary is for the agents, in theirs
    cjk_similarity: float = 0.0  # `similarity` for text read as Chinese (0: `similarity`)
    # Below this (calibrated: the probability of being right) a confident intent is not
    # answered but offered with the next best: a clarification costs a tap, a wrong answer
    # a customer's trust.
    answer_confidence: float = 0.0

    def for_text(self, text: str) -> Policy:
        """The policy for reading `text`, calibrated per language: text read as Chinese is
        recognised by other heads (the multilingual encoder's and the n-grams), whose
        probabilities and similarity are on scales of their own."""
        if not reads_chinese(text):
            return self
        return replace(self, confidence=self.cjk_confidence, similarity=self.cjk_similarity or self.similarity)


@dataclass(frozen=True)
class Said:
    """One turn as the policy reads it: `text`, what the model read (in the lexicon's words);
    `words`, the customer's own, normalised (details are read there: the lexicon may have
    turned "五百蚊" into "五百元", and 蚊 says Hong Kong dollars); and where it is answered."""

    text: str
    words: str
    snapshot: Snapshot
    context: Context
    policy: Policy
    channel: str
    language: str
    keys: Keys = NO_KEYS  # pressed on the IVR this turn
    no_input: bool = False  # the IVR heard and got nothing

    def texts(self, faq_id: str) -> Localized:
        return self.snapshot.localized(faq_id, self.language)

    @property
    def voice(self) -> bool:
        return self.channel == IVR


def decide(
    text: str,
    result: ModelResult,
    snapshot: Snapshot,
    context: Context,
    policy: Policy,
    follow_up: ModelResult | None = None,
    channel: str = "",
    language: str = languages.EN,
    words: str = "",
    keys: Keys = NO_KEYS,
    no_input: bool = False,
) -> Decision:
    """`follow_up`: the reading of the previous turn's words plus these, when the turn
    looks like a follow-up (router/conversation/phrases.py). An FAQ's answer for `channel`
    is used when it has one (a short one for "ivr"); every reply is in `language`; `words`
    (default `text`): see Said. `keys` and `no_input`: from an IVR (router/voice)."""
    said = Said(text, words or text, snapshot, context, policy.for_text(text), channel, language, keys, no_input)
    return replace(_decide(said, result, follow_up), language=language)


def _decide(said: Said, result: ModelResult, follow_up: ModelResult | None) -> Decision:
    if said.no_input:
        return _reprompt(said, "no_input", result)
    if said.keys.kind == "agent" or phrases.wants_human(said.text):
        return _handoff(said, "reason_asked", result)
    if said.keys.kind == "repeat":
        return _repeat(said, result)
    pending, faqs = said.context.pending, said.snapshot.faqs
    if pending.slot_intent in faqs:
        decision = _fill_slots(said, result, faqs[pending.slot_intent], pending)
        if decision is not None:
            return decision
    if pending.options and said.keys.kind == "digits":
        offered = [o for o in pending.options if o in faqs]
        key = said.keys.choice(len(offered))
        if key is None:
            return _reprompt(said, "keys_not_an_option", result)
        asked = said.context.turns[-1].text if said.context.turns else ""
        return _answer(said, asked, faqs[offered[key - 1]], 1.0, [], result)
    if said.keys.kind == "digits" and not said.text:
        return _reprompt(said, "keys_unexpected", result)
    if pending.options:
        chosen = _chosen(said, result, [o for o in pending.options if o in faqs])
        if chosen is not None:
            # Details come from the question that was clarified and from the choice ("the
            # transfer one, 500 euros"), but never from a bare position ("2" is no amount).
            turns = said.context.turns
            asked = turns[-1].text if turns else ""
            details = asked if phrases.is_ordinal(said.text) else f"{asked} {said.words}"
            return _answer(said, details, faqs[chosen], 1.0, [], result)
    if phrases.greets(said.text):  # nothing asked yet: ask what they need
        return Decision("CLARIFY", MESSAGES.text("greeting", said.language), "", 0.0, [], result=result)
    return _question(said, _better(result, follow_up, said.snapshot, said.policy))


def _candidates(result: ModelResult, snapshot: Snapshot, language: str = languages.EN) -> list[Candidate]:
    return [
        Candidate(i, s, snapshot.localized(i, language).title)
        for i, s in zip(result.intents, result.scores, strict=True)
        if i in snapshot.faqs
    ]


def confident(result: ModelResult, snapshot: Snapshot, policy: Policy) -> bool:
    candidates = _candidates(result, snapshot)
    return bool(candidates) and candidates[0].confidence >= policy.confidence and result.similarity >= policy.similarity


def reading(text: str, recogniser: float, result: ModelResult, snapshot: Snapshot, policy: Policy) -> Reading:
    """One of a recogniser's hypotheses (`text`, in the lexicon's words) as the n-best choice
    weighs it (router/voice/hypotheses.py): the top candidate's probability, and its
    similarity, in domain by the policy's threshold for the text's language, as `confident`."""
    candidates = _candidates(result, snapshot)
    top = candidates[0].confidence if candidates else 0.0
    in_domain = result.similarity >= policy.for_text(text).similarity
    return Reading(text, recogniser, top, result.similarity, in_domain)


def _better(result: ModelResult, follow_up: ModelResult | None, snapshot: Snapshot, policy: Policy) -> ModelResult:
    if follow_up is None or not confident(follow_up, snapshot, policy):
        return result
    if not confident(result, snapshot, policy):
        return follow_up
    mine, theirs = _candidates(result, snapshot)[0], _candidates(follow_up, snapshot)[0]
    return follow_up if theirs.confidence > mine.confidence else result


def _question(said: Said, result: ModelResult) -> Decision:
    language, policy, context = said.language, said.policy, said.context
    candidates = _candidates(result, said.snapshot, language)
    if not confident(result, said.snapshot, policy):
        best = candidates[0].confidence if candidates else 0.0
        if context.consecutive_fallbacks + 1 >= policy.handoff_after:
            return _handoff(said, "reason_fallbacks", result, unrecognised=True)
        reply = MESSAGES.text("fallback_repeated" if context.consecutive_fallbacks else "fallback", language)
        reply = f"{reply} {MESSAGES.text('keys_agent', language)}" if said.voice else reply
        return Decision("FALLBACK", reply, "", best, candidates[:MAX_ALTERNATIVES], result=result, unrecognised=True)
    top = candidates[0]
    close = [c for c in candidates[1:MAX_OPTIONS] if c.confidence >= policy.clarify_ratio * top.confidence]
    if not close and top.confidence < policy.answer_confidence:
        close = candidates[1:2]
    if close:
        options = [top, *close]
        reply = _offer(said, [c.title for c in options])
        pending = Pending(options=[c.intent for c in options])
        return Decision("CLARIFY", reply, "", top.confidence, options, pending, result=result)
    alternatives = candidates[1 : 1 + MAX_ALTERNATIVES]
    return _answer(said, said.words, said.snapshot.faqs[top.intent], top.confidence, alternatives, result)


def _plain(said: Said, faq_id: str, confidence: float, alternatives: list[Candidate], result: ModelResult) -> Decision:
    """ANSWER with the entry's answer for the channel, in the reply's language, no details."""
    texts = said.texts(faq_id)
    return Decision("ANSWER", texts.answer_for(said.channel), faq_id, confidence, alternatives, result=result,
                    untranslated=texts.fallback)  # fmt: skip


def _answer(
    said: Said, words: str, faq: Faq, confidence: float, alternatives: list[Candidate], result: ModelResult
) -> Decision:
    """ANSWER with `faq` (its answer for the channel, in the reply's language), or first ask
    for the details it needs (read in `words`)."""
    if not faq.slots:
        return _plain(said, faq.id, confidence, alternatives, result)
    texts = said.texts(faq.id)
    filled = slots.extract(faq.slots, words)
    missing = [name for name in faq.slots if name not in filled]
    if not missing:
        reply = texts.slot_answer.format(**slots.shown(filled, said.language))
        return Decision("ANSWER", reply, faq.id, confidence, alternatives, result=result, untranslated=texts.fallback,
                        slots=filled)  # fmt: skip
    pending = Pending(slot_intent=faq.id, slots=filled)
    ask = slots.prompt(missing, said.language, keys=said.voice)
    return Decision("CLARIFY", ask, faq.id, confidence, [], pending, result=result)


def _fill_slots(said: Said, result: ModelResult, faq: Faq, pending: Pending) -> Decision | None:
    """The reply to a turn that answers a slot question; None when it is a new question."""
    texts, words = said.texts(faq.id), said.words
    plain = _plain(said, faq.id, 1.0, [], result)
    if phrases.cancels(words):
        return plain
    found = slots.extract(faq.slots, words)
    found |= slots.keyed([n for n in faq.slots if n not in pending.slots and n not in found], said.keys)
    if not found:
        confident = result.scores and result.scores[0] >= CONFIDENT and result.similarity >= said.policy.similarity
        if confident and result.intents[0] != faq.id:
            return None  # the customer moved on to something else
        if pending.reprompts >= MAX_REPROMPTS:
            return plain  # the way out
    filled = {**pending.slots, **found}
    missing = [name for name in faq.slots if name not in filled]
    if not missing:
        reply = texts.slot_answer.format(**slots.shown(filled, said.language))
        return Decision("ANSWER", reply, faq.id, 1.0, [], result=result, untranslated=texts.fallback, slots=filled)
    again = Pending(slot_intent=faq.id, slots=filled, reprompts=pending.reprompts + (0 if found else 1))
    return Decision("CLARIFY", slots.prompt(missing, said.language, keys=said.voice), faq.id, 1.0, [], again,
                    result=result)  # fmt: skip


def _chosen(said: Said, result: ModelResult, options: list[str]) -> str | None:
    """The option a reply to a CLARIFY picks, by position, by title words (in the reply's
    language or English), or because the model recognises one of the options; None when
    it is a new question."""
    titles = [f"{said.snapshot.faqs[o].title} {said.texts(o).title}" for o in options]
    index = phrases.choice(said.text, titles)
    if index is not None:
        return options[index]
    if result.intents and result.intents[0] in options and result.scores[0] >= CONFIDENT:
        return result.intents[0]
    return None


def _handoff(said: Said, reason: str, result: ModelResult, *, unrecognised: bool = False) -> Decision:
    """HANDOFF in the customer's language, with a summary for the agent in theirs
    (`policy.agent_language`): why, how long, the topics, and the last words said."""
    agents, context = said.policy.agent_language, said.context
    topics = []
    for turn in context.turns:
        title = said.snapshot.localized(turn.intent, agents).title if turn.intent in said.snapshot.faqs else ""
        if title and title not in topics:
            topics.append(title)
    # The summary is stored with the turn: what the customer said, masked.
    now = said.text or ("[no input]" if said.no_input else keypad.record(said.keys.raw))
    quoted = " | ".join(f'"{mask(t)}"' for t in [*(t.text for t in context.turns[-3:]), now])
    why = MESSAGES.text(reason, agents, count=context.consecutive_fallbacks + 1)
    subjects = ", ".join(topics) or MESSAGES.text("summary_no_topics", agents)
    summary = "; ".join(
        [
            MESSAGES.text("summary_handoff", agents, reason=why),
            MESSAGES.text("summary_turns", agents, count=len(context.turns) + 1),
            MESSAGES.text("summary_topics", agents, topics=subjects),
            MESSAGES.text("summary_said", agents, said=quoted),
        ]
    )
    reply = MESSAGES.text("handoff", said.language)
    return Decision("HANDOFF", reply, "", 0.0, [], handoff_summary=summary, result=result, unrecognised=unrecognised)


def _offer(said: Said, titles: list[str]) -> str:
    """A CLARIFY's question and its options: numbered on a screen, with their keys on the IVR."""
    key = "option_key" if said.voice else "option"
    lines = [MESSAGES.text(key, said.language, number=n, title=title) for n, title in enumerate(titles, 1)]
    return " ".join([MESSAGES.text("clarify", said.language), *lines])


def _open_question(said: Said) -> tuple[str, list[Candidate]]:
    """The question the last turn left open, asked again (with its options); "" when none."""
    pending, faqs = said.context.pending, said.snapshot.faqs
    offered = [o for o in pending.options if o in faqs]
    if offered:
        options = [Candidate(o, 0.0, said.texts(o).title) for o in offered]
        return _offer(said, [c.title for c in options]), options
    if pending.slot_intent in faqs:
        missing = [n for n in faqs[pending.slot_intent].slots if n not in pending.slots]
        return slots.prompt(missing, said.language, keys=said.voice), []
    return "", []


def _reprompt(said: Said, why: str, result: ModelResult) -> Decision:
    """No input, or keys that answer nothing open: say so and ask the open question again
    (it stays open); after `handoff_after` such turns or fallbacks in a row, a person."""
    if said.context.consecutive_fallbacks + 1 >= said.policy.handoff_after:
        return _handoff(said, "reason_no_input", result)
    question, _ = _open_question(said)
    again = question or MESSAGES.text("ask_again", said.language)
    reply = " ".join([MESSAGES.text(why, said.language), again, MESSAGES.text("keys_agent", said.language)])
    return Decision("FALLBACK", reply, "", 0.0, [], said.context.pending, result=result)


def _repeat(said: Said, result: ModelResult) -> Decision:
    """`*` alone: the open question again, else the last answer again (an FAQ's answer without
    the details it was given), else what they need."""
    question, options = _open_question(said)
    pending = said.context.pending
    if question:
        return Decision("CLARIFY", question, pending.slot_intent, 1.0, options, pending, result=result)
    last = said.context.turns[-1] if said.context.turns else None
    if last is not None and last.action == "ANSWER" and last.intent in said.snapshot.faqs:
        return _plain(said, last.intent, 1.0, [], result)
    return Decision("CLARIFY", MESSAGES.text("ask_again", said.language), "", 0.0, [], result=result)


def barge_in(decision: Decision, snapshot: Snapshot) -> bool:
    """Whether an IVR caller may interrupt the reply: not a handoff's (they are being
    transferred), nor a disclosure's (an FAQ tagged NO_BARGE_IN, heard whole)."""
    if decision.action == "HANDOFF":
        return False
    faq = snapshot.faqs.get(decision.intent)
    return not (decision.action == "ANSWER" and faq is not None and NO_BARGE_IN in faq.tags)
