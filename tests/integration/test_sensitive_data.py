"""No card number, IBAN, e-mail address, phone or account number in clear anywhere a turn
lands, after a conversation full of them through both routers: not in etcd (sessions,
turn records, unrecognised queries, feedback, insights), not in any process's log or the
routers' turn logs, not in the spans Triton exported, not in `locate`'s output; and the
customer still got the right answers (masking happens after understanding)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid

import pytest

from tests.helpers.command import TWINTELLER
from tests.integration.conftest import OtlpReceiver
from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, PROJECT_ROOT, LocalCluster
from twinteller.etcd import keys
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration
CARD = "4000 0566 5566 5556"
OTHER_CARD = "5555-5555-5555-4444"
IBAN = "DE89 3704 0044 0532 0130 00"
EMAIL = "kim.sensitive@example.org"
PHONE = "+44 20 7946 0123"
ACCOUNT = "87654321"
# Hong Kong's ways: a mobile as two groups of four, an HKID, a dashed account number, an
# FPS identifier, and a phone number read out in Chinese numerals.
HK_PHONE = "6187 2935"
HKID = "A123456(7)"
HK_ACCOUNT = "012-345-678901-2"
FPS_ID = "173904628"
CHINESE_DIGITS = "九一二三四五六七"


def forms(value: str) -> list[str]:
    """The value as typed, and its digits (or characters) run together."""
    return sorted({value, value.replace(" ", "").replace("-", "")})


SECRETS = [
    f
    for v in (CARD, OTHER_CARD, IBAN, EMAIL, PHONE, ACCOUNT, HK_PHONE, HKID, HK_ACCOUNT, FPS_ID, CHINESE_DIGITS)
    for f in forms(v)
]


async def everything_in_etcd(cluster: LocalCluster) -> bytes:
    async with cluster.store() as store:
        entries, _ = await store.get_prefix(keys.ROOT)  # the whole of it, read a page at a time
    return b"\n".join(e.key.encode() + b" " + e.value for e in entries)


def leaks(blob: bytes) -> list[str]:
    return [s for s in SECRETS if s.encode() in blob]


def test_sensitive_values_land_nowhere_in_clear(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub], otlp: OtlpReceiver
) -> None:
    session = f"sensitive-{uuid.uuid4().hex[:8]}"
    said = [
        f"my card {CARD} still hasn't arrived",
        f"how long does a transfer to {IBAN} take",
        f"what is the weather on mars tomorrow, ring me on {PHONE}",
        f"can I talk to a person please, my email is {EMAIL} and account {ACCOUNT}",
        f"我張卡唔見咗，打 {HK_PHONE} 搵我，身份證 {HKID}",
        f"轉賬去 {HK_ACCOUNT} 要幾耐，轉數快 ID {FPS_ID}",
        f"我個電話係{CHINESE_DIGITS}",
    ]
    replies = []
    for n, text in enumerate(said, 1):
        request = pb.ConverseRequest(session_id=session, turn_id=str(n), text=text, channel="app")
        replies.append(stubs["a" if n % 2 else "b"].Converse(request, timeout=10))
    stubs["a"].Feedback(
        pb.FeedbackRequest(session_id=session, turn_id="1", rating=2, comment=f"use {OTHER_CARD} or {EMAIL}"),
        timeout=10,
    )
    # Understood before masking: the right answers, a fallback recorded, a handoff summarised.
    assert replies[0].intent == "card_arrival" and replies[0].action == pb.ANSWER
    assert replies[2].action == pb.FALLBACK
    assert replies[3].action == pb.HANDOFF and "[email]" in replies[3].handoff_summary
    assert not leaks(b"".join(r.SerializeToString() for r in replies))

    time.sleep(7)  # turn logs flushed, traffic written, the insights worker has run, Triton exported
    assert leaks(asyncio.run(everything_in_etcd(cluster))) == []
    for path in sorted(cluster.run_dir.iterdir()):
        if path.is_file():
            assert leaks(path.read_bytes()) == [], path.name
    assert leaks(b"".join(otlp.bodies)) == []
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TWINTELLER_ADMIN_TOKEN": LOCAL_ADMIN_TOKEN}
    located = subprocess.run(
        [TWINTELLER, "locate", "--etcd", cluster.layout.etcd, "--session", session, "--json"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert located.stdout.count(session.encode()) >= 4 and leaks(located.stdout) == []
    assert b"[card]" in located.stdout and b"[iban]" in located.stdout and b"[phone]" in located.stdout
