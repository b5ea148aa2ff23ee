"""The reference legacy bot as its own process over loopback HTTP: answers by its rules,
refuses bad bodies with 400, and is stopped by pid."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from twinteller.devcluster.local_cluster import PROJECT_ROOT, free_port

pytestmark = pytest.mark.integration


def post(url: str, body: bytes) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_legacy_bot_answers_by_its_rules() -> None:
    port = free_port()
    bot = subprocess.Popen(
        [sys.executable, "-m", "legacy", "--listen", f"127.0.0.1:{port}"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as reply:
                    assert json.loads(reply.read())["rules"] == 23
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "legacy bot not answering"
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/answer"
        status, reply = post(url, json.dumps({"text": "我的卡丢了"}, ensure_ascii=False).encode())
        assert status == 200 and reply["rule"] == "LOST_CARD_ZH" and reply["answer"].startswith("请立即")
        assert post(url, b'{"text": "what is the meaning of life"}')[1]["rule"] == ""
        assert post(url, b"not json")[0] == 400
        assert post(url, b'{"text": 5}')[0] == 400
        assert post(url, b"[]")[0] == 400
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=10)
