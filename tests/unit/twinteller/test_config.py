"""twinteller.config: defaults < environment < flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twinteller.config import (
    ConsoleConfig,
    InsightsConfig,
    LegacyConfig,
    RouterConfig,
    TrainerConfig,
    ZoneConfig,
    console_config,
    insights_config,
    legacy_config,
    router_config,
    trainer_config,
    zone_config,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TWINTELLER_"):
            monkeypatch.delenv(name)
    # TLS files are tests/unit/twinteller/test_tls.py's subject; here plaintext stands in for them.
    monkeypatch.setenv("TWINTELLER_PLAINTEXT", "1")


def test_router_defaults() -> None:
    config = router_config([])
    assert config == RouterConfig(plaintext=True)
    # Parsed values keep the field types (float stays float, int stays int).
    assert isinstance(config.default_deadline_s, float)
    assert isinstance(config.locality_penalty, int)


def test_zone_defaults() -> None:
    config = zone_config([])
    assert config == ZoneConfig(plaintext=True)
    assert isinstance(config.model_repo, Path)


def test_env_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINTELLER_ZONE", "b")
    monkeypatch.setenv("TWINTELLER_ETCD", "10.0.0.1:2379")
    monkeypatch.setenv("TWINTELLER_SUSPECT_S", "0.75")
    monkeypatch.setenv("TWINTELLER_LOCALITY_PENALTY", "9")
    monkeypatch.setenv("TWINTELLER_CONFIDENCE_THRESHOLD", "0.35")
    config = router_config([])
    assert config.zone == "b"
    assert config.etcd == "10.0.0.1:2379"
    assert config.suspect_s == 0.75
    assert config.locality_penalty == 9
    assert config.confidence_threshold == 0.35
    # Untouched fields keep their defaults.
    assert config.listen == RouterConfig().listen


def test_flags_override_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINTELLER_ZONE", "b")
    monkeypatch.setenv("TWINTELLER_SUSPECT_S", "0.75")
    config = router_config(["--zone", "c", "--suspect-s", "3.5", "--max-text-bytes", "100"])
    assert config.zone == "c"
    assert config.suspect_s == 3.5
    assert config.max_text_bytes == 100


def test_flags_override_defaults() -> None:
    config = router_config(["--router-id", "r1", "--listen", "0.0.0.0:6000"])
    assert config.router_id == "r1"
    assert config.identity == "r1"
    assert config.listen == "0.0.0.0:6000"


def test_identity_defaults_to_host_and_pid() -> None:
    assert router_config([]).identity.endswith(f"-{os.getpid()}")


def test_zone_env_and_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TWINTELLER_ZONE", "b")
    monkeypatch.setenv("TWINTELLER_GRPC_PORT", "9001")
    monkeypatch.setenv("TWINTELLER_MODEL_REPO", str(tmp_path))
    monkeypatch.setenv("TWINTELLER_DEVICE", "gpu")
    config = zone_config(["--host", "10.1.2.3", "--device", "cpu"])
    assert config.zone == "b"
    assert config.grpc_port == 9001
    assert config.model_repo == tmp_path
    assert config.device == "cpu"
    assert config.endpoint == "10.1.2.3:9001"


def test_gpu_device_accepted() -> None:
    assert zone_config(["--device", "gpu"]).device == "gpu"


def test_invalid_device_flag_rejected() -> None:
    with pytest.raises(SystemExit):
        zone_config(["--device", "tpu"])


def test_invalid_device_env_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINTELLER_DEVICE", "GPU")
    with pytest.raises(SystemExit):
        zone_config([])


@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_confidence_threshold_out_of_range_rejected(value: str) -> None:
    with pytest.raises(SystemExit):
        router_config(["--confidence-threshold", value])


def test_malformed_number_flag_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        router_config(["--locality-penalty", "many"])
    assert "locality-penalty" in capsys.readouterr().err


def test_unknown_flag_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        router_config(["--no-such-flag", "1"])
    capsys.readouterr()


def test_malformed_number_in_environment_is_a_clean_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINTELLER_SUSPECT_S", "abc")
    with pytest.raises(SystemExit, match="TWINTELLER_SUSPECT_S"):
        router_config([])


def test_similarity_threshold_out_of_range_is_rejected() -> None:
    with pytest.raises(SystemExit):
        router_config(["--similarity-threshold", "1.5"])


def test_admin_tokens_with_and_without_roles() -> None:
    from twinteller.roles import ADMIN, Principal, parse_tokens

    tokens = parse_tokens("alice:secret-one:editor+viewer, bob:secret-two ,carol:secret-3:approver")
    assert tokens == {
        "secret-one": Principal("alice", frozenset({"editor", "viewer"})),
        "secret-two": Principal("bob", frozenset({ADMIN})),  # no roles: admin
        "secret-3": Principal("carol", frozenset({"approver"})),
    }
    assert parse_tokens("") == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("alice", "expected name:token"),
        ("alice:short", "8\\+ characters"),
        (":nameless-token", "expected name:token"),
        ("alice:secret-one:editor:extra", "expected name:token"),
        ("alice:secret-one:superuser", "unknown roles"),
    ],
)
def test_bad_admin_tokens_are_refused(spec: str, message: str) -> None:
    from twinteller.config import parse_tokens

    with pytest.raises(ValueError, match=message):
        parse_tokens(spec)


# -- the workers, the console and the legacy bot: the same rules as the router ---------------


def test_worker_defaults() -> None:
    assert trainer_config([]) == TrainerConfig(plaintext=True)
    assert insights_config([]) == InsightsConfig(plaintext=True)
    assert console_config([]) == ConsoleConfig(plaintext=True)
    assert legacy_config([]) == LegacyConfig()
    assert isinstance(trainer_config([]).cache, Path)


def test_workers_read_the_environment_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINTELLER_ETCD", "10.0.0.7:2379")
    monkeypatch.setenv("TWINTELLER_ZONE_TIMEOUT_S", "30")
    monkeypatch.setenv("TWINTELLER_INTERVAL_S", "5")
    monkeypatch.setenv("TWINTELLER_MODEL_REPO", "/models")
    trainer = trainer_config(["--cache", "/cache/e.npz"])
    assert (trainer.etcd, trainer.zone_timeout_s, trainer.model_repo) == ("10.0.0.7:2379", 30.0, Path("/models"))
    assert trainer.cache == Path("/cache/e.npz")
    insights = insights_config(["--trend-window-min", "30", "--etcd", "10.0.0.8:2379"])
    assert (insights.etcd, insights.interval_s, insights.trend_window_min) == ("10.0.0.8:2379", 5.0, 30)
    monkeypatch.setenv("TWINTELLER_TARGET", "10.0.0.9:50051")
    assert console_config(["--listen", "0.0.0.0:8080"]) == ConsoleConfig(
        listen="0.0.0.0:8080", target="10.0.0.9:50051", plaintext=True
    )


def test_workers_refuse_bad_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="must be positive"):
        insights_config(["--interval-s", "0"])
    with pytest.raises(SystemExit):
        trainer_config(["--zone-timeout-s", "soon"])
    assert "invalid float value: 'soon'" in capsys.readouterr().err
    monkeypatch.delenv("TWINTELLER_PLAINTEXT")
    with pytest.raises(SystemExit, match="TLS is required"):
        trainer_config([])
