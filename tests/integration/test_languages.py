"""The customer's language through the real routers (issue 15): a Cantonese conversation
answered in traditional Chinese (a follow-up, a clarification, a slot answered in
Cantonese), a switch to English, the locale given or detected (and refused when
malformed), a missing translation falling back and counted in the metrics, and FAQ
import/export with per-language answers round-tripping through the admin API."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, LocalCluster
from twinteller.knowledge.languages import HANS, HANT, script, to_traditional
from twinteller.knowledge.schema import seed_faqs
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

pytestmark = pytest.mark.integration
AUTH = [("authorization", f"Bearer {LOCAL_ADMIN_TOKEN}")]
SEED = {f.id: f for f in seed_faqs()}


class Conversation:
    """One customer's turns, alternating between the two routers."""

    def __init__(self, stubs: dict[str, pb_grpc.AssistantStub], locale: str = "") -> None:
        self._stubs = list(stubs.values())
        self._session = f"lang-{uuid.uuid4().hex[:10]}"
        self._locale = locale
        self.turns = 0

    def say(self, text: str, locale: str | None = None) -> pb.ConverseResponse:
        self.turns += 1
        request = pb.ConverseRequest(session_id=self._session, turn_id=str(self.turns), text=text, channel="app",
                                     locale=self._locale if locale is None else locale)  # fmt: skip
        return self._stubs[self.turns % 2].Converse(request, timeout=10)


def test_a_cantonese_conversation_is_answered_in_traditional_chinese(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    talk = Conversation(stubs)
    first = talk.say("我張卡仲未收到")
    assert (first.action, first.intent, first.language) == (pb.ANSWER, "card_arrival", HANT)
    assert first.reply == SEED["card_arrival"].translations[HANT].answer
    # A follow-up read with what came before: still about the card's delivery, still Cantonese.
    follow_up = talk.say("咁要幾耐先到呢？")
    assert follow_up.action == pb.ANSWER and follow_up.language == HANT
    assert follow_up.intent in ("card_arrival", "card_delivery_estimate")

    # A clarification offers titles in traditional Chinese; the customer picks by number.
    asked = talk.say("點樣增值")
    assert asked.action == pb.CLARIFY and asked.language == HANT and len(asked.alternatives) >= 2
    assert asked.reply.startswith("請問您是指以下哪一項？")
    titles = [SEED[a.intent].translations[HANT].title for a in asked.alternatives]
    assert [a.title for a in asked.alternatives] == titles and all(t in asked.reply for t in titles)
    chosen = talk.say("2")
    assert (chosen.action, chosen.intent) == (pb.ANSWER, asked.alternatives[1].intent)
    assert chosen.reply == SEED[chosen.intent].translations[HANT].answer

    # The details an answer needs, asked for and given in Cantonese.
    prompt = talk.say("轉賬去英國要幾耐")
    assert (prompt.action, prompt.intent) == (pb.CLARIFY, "transfer_timing")
    assert prompt.reply == "請問金額是多少？ 請問是哪種貨幣（例如港元、美元或歐元）？"
    filled = talk.say("五百蚊")
    assert (filled.action, filled.intent, filled.language) == (pb.ANSWER, "transfer_timing", HANT)
    assert filled.reply.startswith("一筆500 港元的轉賬")

    # The customer switches to English: so does the conversation, until they switch back.
    english = talk.say("my card still hasn't arrived")
    assert (english.action, english.intent, english.language) == (pb.ANSWER, "card_arrival", "en")
    assert english.reply == SEED["card_arrival"].answer
    assert talk.say("2").language == "en"  # a bare number says nothing: the conversation's language stays


def test_the_locale_wins_over_the_text_when_it_names_a_language(stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    mainland = Conversation(stubs, locale="zh-CN").say("我張卡唔見咗")
    assert (mainland.intent, mainland.language) == ("lost_or_stolen_card", HANS)
    assert mainland.reply == SEED["lost_or_stolen_card"].translations[HANS].answer and script(mainland.reply) != HANT
    hong_kong = Conversation(stubs, locale="zh-HK").say("my card was stolen")
    assert (hong_kong.intent, hong_kong.language) == ("lost_or_stolen_card", HANT)
    # A well-formed locale of a language we do not answer in: detected from the text.
    detected = Conversation(stubs, locale="fr-FR").say("我的卡丢了怎么办")
    assert (detected.intent, detected.language) == ("lost_or_stolen_card", HANS)
    assert Conversation(stubs, locale="").say("我張卡唔見咗").language == HANT


@pytest.mark.parametrize("locale", ["zh_HK!!", "中文", "e", "zh--HK", "x" * 36])
def test_a_malformed_locale_is_refused_naming_the_field(stubs: dict[str, pb_grpc.AssistantStub], locale: str) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        Conversation(stubs, locale=locale).say("我張卡唔見咗")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert refused.value.details().startswith("locale:")  # type: ignore[attr-defined]


@pytest.fixture
def admin(cluster: LocalCluster) -> Iterator[kpb_grpc.KnowledgeStub]:
    with cluster.channel("a") as channel:
        yield kpb_grpc.KnowledgeStub(channel)


def finished(admin: kpb_grpc.KnowledgeStub, job: kpb.Job, timeout: float) -> kpb.Job:
    deadline = time.monotonic() + timeout
    while job.state in (kpb.QUEUED, kpb.RUNNING):
        assert time.monotonic() < deadline, f"job {job.id} still {kpb.JobState.Name(job.state)}"
        time.sleep(0.5)
        job = admin.GetJob(kpb.GetJobRequest(id=job.id), metadata=AUTH, timeout=10)
    assert job.state == kpb.SUCCEEDED, job.message
    return job


def untranslated(cluster: LocalCluster, zone: str, intent: str) -> float:
    with urllib.request.urlopen(cluster.layout.metrics_url(zone), timeout=10) as reply:
        families = text_string_to_metric_families(reply.read().decode())
    return sum(
        s.value
        for family in families
        for s in family.samples
        if s.name == "twinteller_untranslated_replies_total" and s.labels.get("intent") == intent
    )


def test_a_missing_translation_falls_back_and_is_counted_and_files_round_trip(
    cluster: LocalCluster, admin: kpb_grpc.KnowledgeStub, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    # Export and import again: every language survives, byte for byte.
    for fmt in (kpb.CSV, kpb.JSON):
        exported = admin.Export(kpb.ExportRequest(format=fmt), metadata=AUTH, timeout=30).content
        dry = admin.Import(kpb.ImportRequest(content=exported, format=fmt, dry_run=True), metadata=AUTH, timeout=30)
        assert not dry.errors and len(dry.ids) >= len(SEED)
    faqs = json.loads(admin.Export(kpb.ExportRequest(format=kpb.JSON), metadata=AUTH, timeout=30).content)["faqs"]
    arrival = next(f for f in faqs if f["id"] == "card_arrival")
    assert arrival["translations"][HANT]["answer"] == SEED["card_arrival"].translations[HANT].answer

    # A new entry with no traditional Chinese: a Cantonese customer gets the simplified one,
    # converted, and the metrics count it.
    faq_id = f"safe-box-{uuid.uuid4().hex[:6]}"
    answer_hans = "我们暂不提供保险箱服务，贵重物品请另行妥善保管。"
    entry = {
        "id": faq_id,
        "title": "Safe deposit boxes",
        "answer": "We do not offer safe deposit boxes.",
        "questions": ["do you rent safe deposit boxes", "can I get a safe deposit box", "你们有保险箱吗",
                      "可以租保险箱吗", "有冇夾萬租", "我想租個保險箱", "银行保险箱怎么租", "保险箱服务"],
        "translations": {HANS: {"title": "保险箱", "answer": answer_hans}},
    }  # fmt: skip
    content = json.dumps({"faqs": [entry]}, ensure_ascii=False).encode()
    imported = admin.Import(kpb.ImportRequest(content=content, format=kpb.JSON), metadata=AUTH, timeout=30)
    assert list(imported.ids) == [faq_id]
    before = {z: untranslated(cluster, z, faq_id) for z in cluster.layout.routers}
    try:
        trained = finished(admin, admin.Train(kpb.TrainRequest(), metadata=AUTH, timeout=10), 300)
        finished(admin, admin.Deploy(kpb.DeployRequest(version=trained.version), metadata=AUTH, timeout=10), 120)
        reply = Conversation(stubs).say("我想租個保險箱呀")
        assert (reply.intent, reply.language, reply.model_version) == (faq_id, HANT, trained.version)
        assert reply.reply == to_traditional(answer_hans)
        after = {z: untranslated(cluster, z, faq_id) for z in cluster.layout.routers}
        assert sum(after.values()) - sum(before.values()) == 1
    finally:
        admin.DeleteFaq(kpb.DeleteFaqRequest(id=faq_id), metadata=AUTH, timeout=10)
        finished(admin, admin.Rollback(kpb.RollbackRequest(), metadata=AUTH, timeout=10), 120)
