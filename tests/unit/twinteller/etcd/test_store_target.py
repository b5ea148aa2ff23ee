"""twinteller.etcd.store.channel_target and parse_endpoint: etcd endpoints to one gRPC channel target."""

from __future__ import annotations

import pytest

from twinteller.etcd.store import channel_target, parse_endpoint


def test_one_ipv4_member_is_host_port() -> None:
    assert channel_target("127.0.0.1:2379") == "127.0.0.1:2379"


def test_one_dns_name_is_left_to_the_resolver() -> None:
    assert channel_target("etcd.internal.example:2379") == "etcd.internal.example:2379"


def test_one_ipv6_member_keeps_its_brackets() -> None:
    assert channel_target("[::1]:2379") == "[::1]:2379"


def test_surrounding_whitespace_is_ignored() -> None:
    assert channel_target("  etcd:2379 ") == "etcd:2379"


def test_ipv4_members_become_one_round_robin_target() -> None:
    assert channel_target("10.0.0.1:2379,10.0.0.2:22379,10.0.0.3:32379") == (
        "ipv4:10.0.0.1:2379,10.0.0.2:22379,10.0.0.3:32379"
    )


def test_ipv4_members_with_spaces_after_commas() -> None:
    assert channel_target("10.0.0.1:2379, 10.0.0.2:2379") == "ipv4:10.0.0.1:2379,10.0.0.2:2379"


def test_ipv6_members_become_one_bracketed_target() -> None:
    assert channel_target("[::1]:2379,[fd00::2]:2380") == "ipv6:[::1]:2379,[fd00::2]:2380"


def test_ipv6_members_are_written_in_canonical_form() -> None:
    assert channel_target("[0:0:0:0:0:0:0:1]:2379,[FD00::2]:2379") == "ipv6:[::1]:2379,[fd00::2]:2379"


@pytest.mark.parametrize(
    "endpoints",
    ["etcd-0.example:2379,etcd-1.example:2379", "10.0.0.1:2379,etcd-1.example:2379", "localhost:2379,[::1]:2379"],
)
def test_several_members_with_a_dns_name_are_refused(endpoints: str) -> None:
    with pytest.raises(ValueError, match="DNS"):
        channel_target(endpoints)


def test_mixed_ipv4_and_ipv6_members_are_refused() -> None:
    with pytest.raises(ValueError, match="IPv4 and IPv6"):
        channel_target("10.0.0.1:2379,[::1]:2379")


@pytest.mark.parametrize(
    "endpoints",
    ["localhost", "", ":2379", "etcd:", "etcd:port", "[::1]", "10.0.0.1:2379,", "10.0.0.1:2379,,10.0.0.2:2379"],
)
def test_garbage_is_refused(endpoints: str) -> None:
    with pytest.raises(ValueError):
        channel_target(endpoints)


def test_parse_endpoint_splits_host_and_port() -> None:
    assert parse_endpoint("etcd.example:2379") == ("etcd.example", 2379)
    assert parse_endpoint(" 10.0.0.1:12379 ") == ("10.0.0.1", 12379)


def test_parse_endpoint_strips_ipv6_brackets() -> None:
    assert parse_endpoint("[fd00::1]:2379") == ("fd00::1", 2379)


def test_parse_endpoint_error_names_the_bad_value() -> None:
    with pytest.raises(ValueError, match="'localhost'"):
        parse_endpoint("localhost")


@pytest.mark.parametrize("endpoints", ["::1", "2001:db8::1", "etcd:99999", "etcd:0"])
def test_bare_ipv6_address_or_bad_port_is_refused(endpoints: str) -> None:
    with pytest.raises(ValueError):
        channel_target(endpoints)
