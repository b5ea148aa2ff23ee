"""Every bad input gets INVALID_ARGUMENT naming the field, and breaks nothing.

Requests are sent as raw bytes, as a buggy or hostile client could: that is the only way
to send invalid UTF-8, since generated stubs refuse to build such a message."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest

from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.internal import raw_pb2
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

GOOD: dict[str, Any] = {
    "session_id": b"s-1", "turn_id": b"t-1", "text": b"where is my card", "channel": b"app", "locale": b"en-GB"
}  # fmt: skip

CONVERSE_FAULTS = [
    ({"text": b""}, "text"),
    ({"text": b"   \n\t "}, "text"),
    ({"text": b"a" * 2049}, "text"),
    ({"text": "转账".encode() * 342}, "text"),  # 684 characters, 2,052 bytes
    ({"text": b"my card \xff\xfe broke"}, "text"),
    ({"session_id": b""}, "session_id"),
    ({"session_id": b"x" * 129}, "session_id"),
    ({"session_id": b"a/b"}, "session_id"),
    ({"session_id": b"has space"}, "session_id"),
    ({"session_id": b"\xc3\x28"}, "session_id"),
    ({"turn_id": b""}, "turn_id"),
    ({"turn_id": b"t" * 200}, "turn_id"),
    ({"channel": b"c" * 33}, "channel"),
    ({"locale": b"\x80"}, "locale"),
    # From an IVR (README "IVR integration"):
    ({"text": b"", "hypotheses": [raw_pb2.RawHypothesis(text=b"", confidence=0.9)]}, "hypotheses[0].text"),
    ({"text": b"", "hypotheses": [raw_pb2.RawHypothesis(text=b"top up", confidence=1.5)]}, "hypotheses[0].confidence"),
    ({"text": b"", "hypotheses": [raw_pb2.RawHypothesis(text=b"top up", confidence=0.5),
                                  raw_pb2.RawHypothesis(text=b"top of", confidence=-0.2)]}, "hypotheses[1].confidence"),
    ({"text": b"", "hypotheses": [raw_pb2.RawHypothesis(text=b"top up", confidence=0.1)] * 11}, "hypotheses"),
    ({"dtmf": b"12a#"}, "dtmf"),
    ({"dtmf": b"\xff"}, "dtmf"),
    ({"text": b"", "dtmf": b"4567#8"}, "dtmf"),
    ({"no_input": True}, "no_input"),
    ({"heard_language": b"??"}, "heard_language"),
]  # fmt: skip


def raw_call(cluster: LocalCluster, zone: str, method: str) -> grpc.UnaryUnaryMultiCallable:
    channel = cluster.channel(zone)
    return channel.unary_unary(
        f"/twinteller.v1.Assistant/{method}",
        request_serializer=lambda data: data,
        response_deserializer=lambda data: data,
    )


@pytest.mark.parametrize(("override", "field"), CONVERSE_FAULTS)
def test_converse_rejects_bad_input_naming_the_field(cluster: LocalCluster, override: dict, field: str) -> None:
    request = raw_pb2.RawConverseRequest(**{**GOOD, "session_id": uuid.uuid4().hex.encode(), **override})
    with pytest.raises(grpc.RpcError) as error:
        raw_call(cluster, "a", "Converse")(request.SerializeToString(), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field + ":"), error.value.details()


def test_text_of_exactly_2_kib_is_accepted(cluster: LocalCluster) -> None:
    text = ("where is my card " * 200).encode()[:2048]
    request = raw_pb2.RawConverseRequest(**{**GOOD, "session_id": uuid.uuid4().hex.encode(), "text": text})
    reply = pb.ConverseResponse.FromString(raw_call(cluster, "b", "Converse")(request.SerializeToString(), timeout=10))
    assert reply.action in (pb.ANSWER, pb.FALLBACK)


def test_bytes_that_are_not_protobuf_are_invalid_argument(cluster: LocalCluster) -> None:
    with pytest.raises(grpc.RpcError) as error:
        raw_call(cluster, "a", "Converse")(b"\xff\xff\xff\xff garbage", timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": -1}, "rating"),
        ({"session_id": b""}, "session_id"),
        ({"turn_id": b"a/b"}, "turn_id"),
        ({"comment": b"x" * 2049}, "comment"),
        ({"comment": b"\xff"}, "comment"),
    ],
)
def test_feedback_rejects_bad_input_naming_the_field(cluster: LocalCluster, override: dict, field: str) -> None:
    fields = {"session_id": b"s-1", "turn_id": b"t-1", "rating": 4, "comment": b"ok", **override}
    request = raw_pb2.RawFeedbackRequest(**fields)
    with pytest.raises(grpc.RpcError) as error:
        raw_call(cluster, "b", "Feedback")(request.SerializeToString(), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field + ":"), error.value.details()


def test_routers_still_serve_after_bad_input(cluster: LocalCluster) -> None:
    for zone in cluster.layout.routers:
        assert cluster.router_health(zone) == "SERVING"
        assert cluster.processes[f"router-{zone}"].poll() is None


@pytest.mark.parametrize("method", ["Converse", "Feedback"])
def test_a_call_without_a_deadline_is_refused(cluster: LocalCluster, method: str) -> None:
    with cluster.channel("a") as channel:
        stub = pb_grpc.AssistantStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            if method == "Converse":
                stub.Converse(pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="where is my card"))
            else:
                stub.Feedback(pb.FeedbackRequest(session_id=uuid.uuid4().hex, turn_id="1", rating=5))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "deadline" in (refused.value.details() or "")  # type: ignore[attr-defined]


def test_a_stream_without_a_deadline_is_refused(cluster: LocalCluster) -> None:
    with cluster.channel("b") as channel:
        requests = iter([pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="where is my card")])
        with pytest.raises(grpc.RpcError) as refused:
            list(pb_grpc.AssistantStub(channel).StreamConverse(requests))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "deadline" in (refused.value.details() or "")  # type: ignore[attr-defined]
