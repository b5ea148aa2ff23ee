"""router/migration/legacy_client.py: the legacy bot adapter (`LegacyBot`) over a fake transport: good
replies pass, transport failures become `LegacyUnavailable` and make the bot suspect for
`suspect_s` (skipped, not asked), the deadline caps the time it is given, over-long
answers are refused; and `transport()` picks the adapter from the --legacy address."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from router.migration.legacy_client import (
    MAX_ANSWER_BYTES,
    GrpcTransport,
    HttpTransport,
    LegacyBot,
    LegacyReply,
    LegacySkipped,
    LegacyUnavailable,
    transport,
)

TIMEOUT_S = 2.0
SUSPECT_S = 5.0


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeTransport:
    """Answers with `reply`, or raises `error`, or sleeps `delay_s` first; records each call."""

    def __init__(
        self,
        reply: LegacyReply | None = None,
        *,
        error: BaseException | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self.reply = reply or LegacyReply("LOST_CARD", "Call us to block the card.")
        self.error = error
        self.delay_s = delay_s
        self.calls: list[tuple[str, str, str, float]] = []
        self.closed = False

    async def ask(self, text: str, session: str, channel: str, timeout: float) -> LegacyReply:
        self.calls.append((text, session, channel, timeout))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.reply

    async def close(self) -> None:
        self.closed = True


def bot_with(fake: FakeTransport, clock: FakeClock | None = None, *, timeout_s: float = TIMEOUT_S) -> LegacyBot:
    return LegacyBot(fake, timeout_s=timeout_s, suspect_s=SUSPECT_S, clock=clock or FakeClock())


def far_deadline() -> float:
    return time.monotonic() + 30


async def test_a_good_reply_passes_through() -> None:
    fake = FakeTransport(LegacyReply("LOST_CARD", "Call us to block the card."))
    bot = bot_with(fake)

    reply = await bot.ask("I lost my card", "s1", "web", far_deadline())

    assert reply == LegacyReply("LOST_CARD", "Call us to block the card.")
    assert [call[:3] for call in fake.calls] == [("I lost my card", "s1", "web")]
    assert not bot.suspect


async def test_a_reply_with_no_rule_passes_through() -> None:
    bot = bot_with(FakeTransport(LegacyReply("", "Sorry, I did not understand.")))

    assert await bot.ask("gibberish", "s1", "web", far_deadline()) == LegacyReply("", "Sorry, I did not understand.")


@pytest.mark.parametrize(
    "error",
    [
        OSError("connection refused"),
        ConnectionRefusedError("refused"),
        ValueError("not JSON"),
        aiohttp.ClientError("broken"),
        aiohttp.ClientConnectionError("reset"),
        TimeoutError(),
        LegacyUnavailable("HTTP 500"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_transport_error_becomes_legacy_unavailable(error: BaseException) -> None:
    bot = bot_with(FakeTransport(error=error))

    with pytest.raises(LegacyUnavailable) as raised:
        await bot.ask("hello", "s1", "web", far_deadline())

    assert not isinstance(raised.value, LegacySkipped)
    assert raised.value.__cause__ is error


async def test_a_slow_transport_times_out_as_legacy_unavailable() -> None:
    fake = FakeTransport(delay_s=10.0)
    bot = bot_with(fake, timeout_s=0.05)

    started = time.monotonic()
    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())

    assert time.monotonic() - started < 2.0
    assert bot.suspect


async def test_after_a_failure_the_bot_is_suspect_and_not_asked() -> None:
    clock = FakeClock()
    fake = FakeTransport(error=OSError("refused"))
    bot = bot_with(fake, clock)
    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())
    assert bot.suspect

    fake.error = None
    clock.now += SUSPECT_S - 0.1
    with pytest.raises(LegacySkipped):
        await bot.ask("hello again", "s1", "web", far_deadline())

    assert len(fake.calls) == 1


async def test_legacy_skipped_is_a_legacy_unavailable() -> None:
    bot = bot_with(FakeTransport(error=OSError("refused")))
    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())

    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())


async def test_once_suspect_s_has_passed_the_bot_is_asked_again() -> None:
    clock = FakeClock()
    fake = FakeTransport(error=OSError("refused"))
    bot = bot_with(fake, clock)
    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())

    fake.error = None
    clock.now += SUSPECT_S
    assert not bot.suspect
    reply = await bot.ask("hello again", "s1", "web", far_deadline())

    assert reply == fake.reply
    assert len(fake.calls) == 2


async def test_a_success_does_not_make_the_bot_suspect() -> None:
    clock = FakeClock()
    fake = FakeTransport()
    bot = bot_with(fake, clock)

    await bot.ask("one", "s1", "web", far_deadline())
    await bot.ask("two", "s1", "web", far_deadline())

    assert len(fake.calls) == 2
    assert not bot.suspect


async def test_a_deadline_already_passed_is_refused_without_asking() -> None:
    fake = FakeTransport()
    bot = bot_with(fake)

    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", time.monotonic() - 0.01)

    assert fake.calls == []


async def test_an_answer_over_max_answer_bytes_is_refused() -> None:
    bot = bot_with(FakeTransport(LegacyReply("LONG", "x" * (MAX_ANSWER_BYTES + 1))))

    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())


async def test_an_answer_of_exactly_max_answer_bytes_passes() -> None:
    answer = "x" * MAX_ANSWER_BYTES
    bot = bot_with(FakeTransport(LegacyReply("LONG", answer)))

    assert (await bot.ask("hello", "s1", "web", far_deadline())).answer == answer


async def test_the_answer_limit_counts_utf8_bytes_not_characters() -> None:
    # 3 bytes per character: under the limit in characters, over it in bytes.
    bot = bot_with(FakeTransport(LegacyReply("LONG", "卡" * (MAX_ANSWER_BYTES // 3 + 1))))

    with pytest.raises(LegacyUnavailable):
        await bot.ask("hello", "s1", "web", far_deadline())


async def test_the_transport_gets_timeout_s_when_the_deadline_is_far() -> None:
    fake = FakeTransport()
    bot = bot_with(fake, timeout_s=TIMEOUT_S)

    await bot.ask("hello", "s1", "web", far_deadline())

    assert fake.calls[0][3] == TIMEOUT_S


async def test_the_transport_gets_the_time_left_when_the_deadline_is_nearer() -> None:
    fake = FakeTransport()
    bot = bot_with(fake, timeout_s=TIMEOUT_S)

    await bot.ask("hello", "s1", "web", time.monotonic() + 0.5)

    assert 0.3 < fake.calls[0][3] <= 0.5


async def test_close_closes_the_transport() -> None:
    fake = FakeTransport()

    await bot_with(fake).close()

    assert fake.closed


async def test_an_http_address_gives_an_http_transport() -> None:
    chosen = transport("http://127.0.0.1:1")
    try:
        assert isinstance(chosen, HttpTransport)
    finally:
        await chosen.close()


async def test_a_grpc_address_gives_a_grpc_transport() -> None:
    chosen = transport("grpc://127.0.0.1:1")
    try:
        assert isinstance(chosen, GrpcTransport)
    finally:
        await chosen.close()


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ftp://x", "grpc://", "http://", ""])
def test_a_bad_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        transport(address)
