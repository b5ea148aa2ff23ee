"""Random and hostile input at the real router (router a of the test cluster, over gRPC):
`Converse`, `StreamConverse`, `Feedback` and the admin API get arbitrary bytes, arbitrary
field values (invalid UTF-8, control characters, huge and empty fields, out-of-range
numbers) and bad tokens. Every call must end, within its deadline, with one of the status
codes the README names (never UNKNOWN, never INTERNAL: a crash in a handler); a refused
turn must leave no session behind; and the router must serve a normal turn afterwards.
Bounded: a fixed number of examples per property, derandomised, no example database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_lifecycle import AUTH
from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.etcd import keys
from twinteller.internal import raw_pb2
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb

pytestmark = pytest.mark.integration
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# RESOURCE_EXHAUSTED: the fuzzing is one client, and it is fast (router/api/limits.py).
PUBLIC = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
ADMIN = PUBLIC | {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}
ADMIN_READS = [
    "/twinteller.v1.Knowledge/GetFaq",
    "/twinteller.v1.Knowledge/ListFaqs",
    "/twinteller.v1.Knowledge/Export",
    "/twinteller.v1.Knowledge/ListAudit",
    "/twinteller.v1.Knowledge/GetJob",
    "/twinteller.v1.Knowledge/ListClusters",
    "/twinteller.v1.Knowledge/ListLexicon",
    "/twinteller.v1.Migration/GetCutover",
    "/twinteller.v1.Migration/GetShadowReport",
    "/twinteller.v1.Operations/LocateTurns",
    "/twinteller.v1.Operations/GetTurnStats",
]
REFUSED_SESSIONS: set[str] = set()
ACCEPTED_SESSIONS: set[str] = set()  # an accepted turn may share a refused one's session id


@pytest.fixture(scope="module")
def channel(cluster: LocalCluster) -> Iterator[grpc.Channel]:
    with cluster.channel("a") as opened:
        yield opened


def call_raw(
    channel: grpc.Channel, method: str, body: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.StatusCode:
    """Send `body` as it is; the status the call ended with."""
    unary = channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        unary(body, timeout=10, metadata=metadata)
    except grpc.RpcError as e:
        return e.code()  # type: ignore[attr-defined, no-any-return]
    return grpc.StatusCode.OK


utf8ish = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b" ", b"\x00", b"\xff\xfe", b"\xed\xa0\x80", "\u200b\u200b".encode(), b"a" * 5000]),
)
ids = st.one_of(utf8ish, st.from_regex(r"[A-Za-z0-9._:@-]{1,130}", fullmatch=True).map(str.encode))
raw_turns = st.builds(
    raw_pb2.RawConverseRequest, session_id=ids, turn_id=ids, text=utf8ish, channel=utf8ish, locale=utf8ish
)


@FUZZ
@given(body=st.binary(max_size=2000), method=st.sampled_from(["Converse", "Feedback"]))
def test_arbitrary_bytes_get_a_clear_status(channel: grpc.Channel, body: bytes, method: str) -> None:
    assert call_raw(channel, f"/twinteller.v1.Assistant/{method}", body) in PUBLIC


@FUZZ
@given(request=raw_turns)
def test_hostile_turns_get_a_clear_status(channel: grpc.Channel, request: raw_pb2.RawConverseRequest) -> None:
    code = call_raw(channel, "/twinteller.v1.Assistant/Converse", request.SerializeToString())
    assert code in PUBLIC
    try:
        session = request.session_id.decode()
    except UnicodeDecodeError:
        return  # not a key etcd could hold anyway
    (ACCEPTED_SESSIONS if code == grpc.StatusCode.OK else REFUSED_SESSIONS).add(session)


@FUZZ
@given(
    session=ids,
    turn=ids,
    rating=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    comment=utf8ish,
)
def test_hostile_feedback_gets_a_clear_status(
    channel: grpc.Channel, session: bytes, turn: bytes, rating: int, comment: bytes
) -> None:
    request = raw_pb2.RawFeedbackRequest(session_id=session, turn_id=turn, rating=rating, comment=comment)
    assert call_raw(channel, "/twinteller.v1.Assistant/Feedback", request.SerializeToString()) in PUBLIC


@settings(FUZZ, max_examples=40)
@given(requests=st.lists(raw_turns, min_size=1, max_size=4))
def test_hostile_streams_get_a_clear_status(channel: grpc.Channel, requests: list[raw_pb2.RawConverseRequest]) -> None:
    stream = channel.stream_stream(
        "/twinteller.v1.Assistant/StreamConverse", request_serializer=lambda b: b, response_deserializer=lambda b: b
    )
    try:
        for _ in stream(iter([r.SerializeToString() for r in requests]), timeout=20):
            pass
    except grpc.RpcError as e:
        assert e.code() in PUBLIC, e  # type: ignore[attr-defined]


@FUZZ
@given(
    method=st.sampled_from(ADMIN_READS),
    body=st.binary(max_size=500),
    token=st.one_of(st.just(AUTH[0][1]), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126))),
)
def test_hostile_admin_calls_get_a_clear_status(channel: grpc.Channel, method: str, body: bytes, token: str) -> None:
    metadata = (("authorization", token),) if token.strip() == token else ()
    assert call_raw(channel, method, body, metadata) in ADMIN


@settings(FUZZ, max_examples=60)
@given(content=st.binary(max_size=3000), fmt=st.integers(min_value=0, max_value=5))
def test_hostile_imports_are_refused_clearly_and_write_nothing(channel: grpc.Channel, content: bytes, fmt: int) -> None:
    # A dry run only: whatever the bytes, the knowledge base must not change here.
    request = kpb.ImportRequest(format=fmt, content=content, dry_run=True)  # type: ignore[arg-type]
    assert call_raw(channel, "/twinteller.v1.Knowledge/Import", request.SerializeToString(), tuple(AUTH)) in ADMIN


def test_after_the_fuzzing_no_refused_turn_left_a_session_and_the_router_serves(
    cluster: LocalCluster, channel: grpc.Channel
) -> None:
    async def sessions(names: list[str]) -> list[str]:
        async with cluster.store() as store:
            found = [await store.get(keys.session(n)) for n in names if n and "/" not in n]
        return [e.key for e in found if e is not None]

    refused = sorted(REFUSED_SESSIONS - ACCEPTED_SESSIONS)
    assert refused, "the fuzz tests above ran first and refused some turns"
    assert asyncio.run(sessions(refused)) == []
    reply = pb_grpc.AssistantStub(channel).Converse(
        pb.ConverseRequest(session_id="after-fuzz", turn_id="1", text="where is my card"), timeout=10
    )
    assert reply.reply and reply.action != pb.ACTION_UNSPECIFIED
