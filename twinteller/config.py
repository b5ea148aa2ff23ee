"""All configuration, as frozen dataclasses built in one place from flags and environment.

One dataclass per process (router, zone agent, trainer, insights worker, console, legacy
bot), and TransportConfig for the tools. Every flag has an environment twin (`--etcd` <->
`TWINTELLER_ETCD`); a flag wins over the environment, the environment over the documented
default. `python -m <process> --help` lists them.
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from twinteller.knowledge.languages import LANGUAGES
from twinteller.roles import parse_tokens
from twinteller.tls import Tls, TlsConfigError, load_tls

DEFAULT_ETCD = "127.0.0.1:2379"


@dataclass(frozen=True)
class TransportConfig:
    """Transport security (twinteller/tls.py, README "Security model"), the same for every
    process that has a config here: its certificate and key, and the CA of the cluster's
    internal hops. Without them a process refuses to start, unless given --plaintext
    (development only)."""

    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    plaintext: bool = False

    @functools.cached_property
    def tls(self) -> Tls | None:
        """The files, loaded and checked once: the config check at start-up, the process
        and the Triton it starts (again at each restart) all ask for them."""
        return load_tls(self.tls_ca, self.tls_cert, self.tls_key, plaintext=self.plaintext)


@dataclass(frozen=True)
class RouterConfig(TransportConfig):
    zone: str = "a"
    listen: str = "127.0.0.1:50051"
    # Where tools (locate, inspect) reach this router, registered in etcd; default `listen`
    # (in Kubernetes: the pod IP and port).
    advertise: str = ""
    # Prometheus /metrics (router/observability/metrics.py); empty: none.
    metrics_listen: str = "127.0.0.1:9464"
    etcd: str = DEFAULT_ETCD
    router_id: str = ""  # default: <hostname>-<pid>
    model_name: str = "intent"
    # Callers must set a deadline (issue 8: a call without one could hold a turn forever);
    # a router given this many seconds gives them to calls without one instead. 0: required.
    default_deadline_s: float = 0.0
    # One model attempt may use at most this much, so a slow zone leaves time for the other.
    model_attempt_timeout_s: float = 1.0
    # No answer from a zone after this long: ask the next zone too (a hedge), first answer wins.
    # Well above a healthy call (~10-50 ms here), well below the 1 s failover target.
    hedge_delay_s: float = 0.25
    # Extra model calls (retries + hedges) are paid from a token bucket: each turn adds
    # `ratio` of a token, plus `min_per_s` tokens a second, up to `burst` (router/zones/budget.py).
    retry_budget_ratio: float = 0.2
    retry_budget_min_per_s: float = 5.0
    retry_budget_burst: float = 50.0
    # Below either threshold the turn is FALLBACK. The English thresholds, `clarify_ratio`
    # and `answer_confidence_threshold` were chosen together on the English tuning sets
    # (twinteller/data/english_tuning*.csv: 385 questions in five styles, 120 out of domain;
    # answered right 91.9 %, wrongly 1.0 %, out of domain fallen back 94.2 %), with each
    # version's calibrated probabilities; reported on held-out sets by `make eval` (README
    # "Noisy text").
    confidence_threshold: float = 0.2
    similarity_threshold: float = 0.6
    # The thresholds for text read as Chinese, whose scores come from other heads (the
    # multilingual encoder and the n-grams; its similarity is that encoder's cosine):
    # calibrated per language on the Chinese tuning set (twinteller/data/chinese_tuning*.csv:
    # 231 questions, 100 out of domain; all of those fall back, 88.7 % answered right), then
    # reported on the held-out sets (README "Languages").
    cjk_confidence_threshold: float = 0.2
    cjk_similarity_threshold: float = 0.65
    # CLARIFY when the second intent has at least this share of the first's probability
    # (calibrated probabilities are sharper than the averaged ones were: 0.3 now asks about
    # as often as 0.5 did before calibration).
    clarify_ratio: float = 0.3
    # Below this top-1 probability (calibrated: the probability of being right; twinteller/
    # model/calibration.py) a turn is not answered but a CLARIFY between the best two.
    answer_confidence_threshold: float = 0.8
    # This many FALLBACKs in a row become a HANDOFF to a person.
    handoff_after: int = 3
    # Replies are in the customer's language (twinteller/knowledge/languages.py); the
    # handoff summary is in the agents' language. A new conversation in Chinese whose
    # script does not show (no character exists in one script only) is answered in
    # `default_chinese`: traditional, for a Hong Kong bank.
    agent_language: str = "en"
    default_chinese: str = "zh-Hant"
    # Unrecognised queries are kept this long for the insights work.
    unrecognised_retention_days: int = 30
    # Per-minute turn counts in etcd, for trends across routers (router/observability/traffic.py).
    traffic_retention_days: int = 8
    session_ttl_s: int = 1800
    history_turns: int = 10
    # Sessions this router keeps a copy of, to go on serving them while etcd is unreachable.
    local_sessions: int = 5000
    # A remote zone is chosen over the local one when it has this many fewer calls in flight.
    locality_penalty: int = 4
    # After a failed call a zone is avoided for this long unless it is the only one left.
    suspect_s: float = 2.0
    probe_interval_s: float = 0.5
    probe_timeout_s: float = 0.5
    probe_failures: int = 2
    leader_ttl_s: int = 2
    # Per client (its address) on the public API: turns a second, the burst above that,
    # and calls in flight (router/api/limits.py); 0 = no limit.
    client_rate_per_s: float = 200.0
    client_burst: float = 400.0
    client_max_in_flight: int = 256
    max_text_bytes: int = 2048
    max_id_chars: int = 128
    # Who may use the admin Knowledge API: "name:token,name:token" (empty: nobody).
    admin_tokens: str = ""
    # The legacy bot being replaced (router/migration/legacy_client.py): http://host:port or grpc://host:port
    # (empty: none). Turns go to it only while the cutover is enabled (twinteller/migration/cutover.py).
    legacy: str = ""
    # One legacy call may take this long; after a failure the bot is not asked for `legacy_suspect_s`.
    legacy_timeout_s: float = 1.0
    legacy_suspect_s: float = 2.0
    # Cutover comparison counts and disagreeing turns are kept this long in etcd.
    cutover_retention_days: int = 7
    # Release safety (README "Releases"): a deploy is refused when its version passes a smaller
    # share of the conversation tests than this floor or than the active version; a version to
    # test is waited for this long to load in every zone; per-version counts are kept this long.
    gate_floor: float = 0.0
    test_load_timeout_s: float = 180.0
    version_stats_retention_days: int = 7
    # Every turn this router served, for `locate` and `inspect` (router/observability/turn_log.py): a SQLite
    # file, kept this many days.
    turn_log: str = "turns.sqlite3"
    turn_log_retention_days: int = 7
    # On SIGTERM: NOT_SERVING and out of etcd first, then wait this long for clients and
    # other routers to notice, then stop accepting and give in-flight turns `grace_s`.
    drain_notice_s: float = 0.5
    grace_s: float = 5.0
    # The public API asks every caller for a client certificate signed by this CA (mutual
    # TLS for the IVR and app backends; include the cluster's CA for the tools and the
    # console); empty: server TLS only, callers are identified by their tokens.
    tls_client_ca: str = ""

    @property
    def identity(self) -> str:
        return self.router_id or f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class ZoneConfig(TransportConfig):
    zone: str = "a"
    etcd: str = DEFAULT_ETCD
    host: str = "127.0.0.1"  # Triton listens here (0.0.0.0 in a container)
    # The address routers use for this zone, if not `host` (in Kubernetes: the pod IP).
    advertise_host: str = ""
    grpc_port: int = 8001
    http_port: int = 8000
    metrics_port: int = 8002
    model_repo: Path = Path("model_repo")
    model_name: str = "intent"
    model_version: str = "1"
    run_dir: Path = Path("run")
    device: str = "cpu"  # "cpu" | "gpu"
    lease_ttl_s: int = 2
    ready_interval_s: float = 0.5
    # On SIGTERM: deregister, then keep Triton up this long for calls routers already sent.
    drain_s: float = 1.0
    startup_timeout_s: float = 180.0
    # One load_model call may take this long (a load takes seconds; a hung Triton never answers).
    load_timeout_s: float = 60.0
    # A live Triton whose model is not ready this long is stopped and started again (seen
    # here: Triton aborting on a corrupted heap and hanging in its signal handler). Well
    # above a load or a stop-the-world pause, which it survives by itself.
    restart_unready_s: float = 30.0
    # Triton traces 1 request in `trace_rate` (OpenTelemetry, continuing the router's trace).
    # 1: every turn has Triton's spans. Triton 2.51 can crash under high request rates with
    # tracing on (triton-inference-server/server#7795, seen here at ~150 requests/s); a
    # larger rate makes that rarer, and the agent restarts a Triton that crashed or hung.
    trace_rate: int = 1

    @property
    def endpoint(self) -> str:
        """Where routers reach this zone's Triton (registered in etcd)."""
        return f"{self.advertise_host or self.host}:{self.grpc_port}"

    @property
    def local_endpoint(self) -> str:
        """Where this agent reaches its own Triton."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{host}:{self.grpc_port}"


@dataclass(frozen=True)
class TrainerConfig(TransportConfig):
    etcd: str = DEFAULT_ETCD
    # The model repository the trainer writes versions into (the zones read it).
    model_repo: Path = Path("model_repo")
    # Embeddings of the questions already seen: a retrain embeds only what changed.
    cache: Path = Path("build/embeddings.npz")
    # How long a deploy waits for every zone to load and answer the new version.
    zone_timeout_s: float = 180.0


@dataclass(frozen=True)
class InsightsConfig(TransportConfig):
    etcd: str = DEFAULT_ETCD
    # The multilingual encoder's embeddings of the base's questions (insights/clustering.py).
    question_cache: Path = Path("build/embeddings-insights.npz")
    # A round every this many seconds (at least twice the last round's own time).
    interval_s: float = 15.0
    # A trend: the last `trend_window_min` minutes against the `trend_baseline_min` before.
    trend_window_min: int = 15
    trend_baseline_min: int = 24 * 60


@dataclass(frozen=True)
class ConsoleConfig(TransportConfig):
    listen: str = "127.0.0.1:8080"  # HTTP
    target: str = "127.0.0.1:50051,127.0.0.1:50052"  # router(s), comma-separated


@dataclass(frozen=True)
class LegacyConfig:
    """The reference legacy bot (legacy/): the old system speaks plain HTTP and gRPC."""

    rules: str = ""  # its rule file; empty: the rules it ships with (legacy/data/rules.json)
    listen: str = "127.0.0.1:8090"  # HTTP/JSON
    grpc_listen: str = ""  # empty: no gRPC
    log: str = ""  # append every answer to this JSON-lines file (empty: none)


def legacy_address(address: str) -> tuple[str, str]:
    """("http", "http://host:port") or ("grpc", "host:port") from a --legacy address."""
    scheme, sep, rest = address.partition("://")
    if sep and rest and scheme in ("http", "https"):
        return "http", address
    if sep and rest and scheme == "grpc":
        return "grpc", rest
    raise ValueError(f"--legacy {address!r}: expected http://host:port or grpc://host:port")


_HELP = {
    "zone": "zone name (a, b, ...)",
    "listen": "host:port of the public gRPC server",
    "metrics_listen": "host:port of the Prometheus /metrics endpoint (empty: none)",
    "etcd": "etcd members host:port[,host:port...] (IP addresses, or one DNS name)",
    "admin_tokens": "who may use the admin API: name:token[:role+role][,...] (roles: viewer, editor, approver, "
    "operator; none: admin)",
    "router_id": "identity in leader election (default host-pid)",
    "confidence_threshold": "FALLBACK below this top-1 probability",
    "similarity_threshold": "FALLBACK below this cosine to the nearest training question",
    "cjk_confidence_threshold": "FALLBACK below this top-1 probability for text read as Chinese",
    "cjk_similarity_threshold": "FALLBACK below this cosine to the nearest Chinese training question",
    "answer_confidence_threshold": "CLARIFY between the best two instead of answering below this top-1 probability",
    "device": "cpu or gpu: Triton instance kind",
    "tls_ca": "PEM: the CA that signs every component's certificate",
    "tls_cert": "PEM: this process's certificate (server and client)",
    "tls_key": "PEM: this process's private key",
    "tls_client_ca": "PEM: the public API requires client certificates from this CA (empty: not required)",
    "plaintext": "no TLS anywhere: development only",
    "legacy": "the legacy bot: http://host:port or grpc://host:port (empty: none)",
    "cache": "the trainer's embedding cache",
    "question_cache": "the insights worker's embeddings of the base's questions (written by it)",
    "zone_timeout_s": "how long a deploy waits for the zones",
    "target": "router(s), comma-separated",
    "grpc_listen": "gRPC host:port (empty: no gRPC)",
    "log": "append every answer to this JSON-lines file (empty: none)",
}


def _add_fields(parser: argparse.ArgumentParser, cls: type) -> None:
    """A flag for each field of `cls`, its environment twin as the default."""
    for f in fields(cls):
        env = "TWINTELLER_" + f.name.upper()
        kind: Any = type(f.default)  # every field has a default of its own type
        what = _HELP.get(f.name, f.name.replace("_", " "))
        if kind is bool:  # a switch: --plaintext, or TWINTELLER_PLAINTEXT=1
            on = os.environ.get(env, "").lower() in ("1", "true", "yes") or f.default
            parser.add_argument("--" + f.name.replace("_", "-"), action="store_true", default=on,
                                help=f"{what} (env {env}=1)")  # fmt: skip
            continue
        try:
            default = kind(os.environ.get(env, f.default))
        except ValueError:
            raise SystemExit(f"{env}={os.environ[env]!r} is not a valid {kind.__name__}") from None
        parser.add_argument(
            "--" + f.name.replace("_", "-"), type=kind, default=default, help=f"{what} (env {env}, default %(default)s)"
        )


def _parser_for(cls: type, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    _add_fields(parser, cls)
    return parser


def _build(cls: type, argv: list[str] | None, description: str) -> Any:
    args = _parser_for(cls, description).parse_args(argv)
    return cls(**vars(args))


def _loaded_tls(config: TransportConfig) -> Tls | None:
    """The config's TLS files, loaded and checked; a clean usage error if they are wrong."""
    try:
        return config.tls
    except TlsConfigError as e:
        raise SystemExit(str(e)) from None


def add_transport_arguments(parser: argparse.ArgumentParser) -> None:
    """--tls-ca/--tls-cert/--tls-key/--plaintext (and their TWINTELLER_* twins) for the
    tools and workers, exactly as the router and zone agent take them."""
    _add_fields(parser, TransportConfig)


def transport_from_arguments(args: argparse.Namespace) -> Tls | None:
    return _loaded_tls(TransportConfig(**{f.name: getattr(args, f.name) for f in fields(TransportConfig)}))


def transport_from_environment() -> Tls | None:
    """What add_transport_arguments gives with no flags: for code without a command line
    of its own (Locust users, Kubernetes probes)."""
    return _loaded_tls(_build(TransportConfig, [], "transport"))


def router_config(argv: list[str] | None = None) -> RouterConfig:
    config: RouterConfig = _build(RouterConfig, argv, "twinteller router")
    _loaded_tls(config)
    if config.tls_client_ca and not Path(config.tls_client_ca).is_file():
        raise SystemExit(f"--tls-client-ca {config.tls_client_ca}: no such file")
    try:
        parse_tokens(config.admin_tokens)
    except ValueError as e:
        raise SystemExit(f"--admin-tokens: {e}") from None
    if config.legacy:
        try:
            legacy_address(config.legacy)
        except ValueError as e:
            raise SystemExit(str(e)) from None
    if config.agent_language not in LANGUAGES:
        raise SystemExit(f"--agent-language must be one of {', '.join(LANGUAGES)}")
    if config.default_chinese not in ("zh-Hant", "zh-Hans"):
        raise SystemExit("--default-chinese must be zh-Hant or zh-Hans")
    for name in (
        "confidence_threshold",
        "similarity_threshold",
        "cjk_confidence_threshold",
        "cjk_similarity_threshold",
        "answer_confidence_threshold",
    ):
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise SystemExit(f"--{name.replace('_', '-')} must be within 0..1")
    return config


def zone_config(argv: list[str] | None = None) -> ZoneConfig:
    config: ZoneConfig = _build(ZoneConfig, argv, "twinteller zone agent (Triton + registration)")
    _loaded_tls(config)
    if config.device not in ("cpu", "gpu"):
        raise SystemExit("--device must be cpu or gpu")
    if config.trace_rate < 1:
        raise SystemExit("--trace-rate must be 1 or more")
    return config


def trainer_config(argv: list[str] | None = None) -> TrainerConfig:
    config: TrainerConfig = _build(TrainerConfig, argv, "twinteller trainer (train, deploy, rollback jobs)")
    _loaded_tls(config)
    return config


def insights_config(argv: list[str] | None = None) -> InsightsConfig:
    config: InsightsConfig = _build(InsightsConfig, argv, "twinteller insights worker (clusters, trends)")
    _loaded_tls(config)
    if config.interval_s <= 0 or config.trend_window_min < 1 or config.trend_baseline_min < 1:
        raise SystemExit("--interval-s, --trend-window-min and --trend-baseline-min must be positive")
    return config


def console_config(argv: list[str] | None = None) -> ConsoleConfig:
    config: ConsoleConfig = _build(ConsoleConfig, argv, "twinteller console (web page for knowledge managers)")
    _loaded_tls(config)
    return config


def legacy_config(argv: list[str] | None = None) -> LegacyConfig:
    config: LegacyConfig = _build(LegacyConfig, argv, "the reference legacy regex bot")
    return config
