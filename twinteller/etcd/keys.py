"""The etcd key layout, in one place. Everything another router or zone needs after a
failure lives under ROOT."""

from __future__ import annotations

import time

ROOT = "/twinteller"
ZONES = f"{ROOT}/zones/"  # zones/<zone> -> {"zone", "endpoint"}, on the zone agent's lease
HEALTH = f"{ROOT}/health/"  # health/<zone> -> {"healthy", ...}, on the leader's lease
LEADER = f"{ROOT}/router/leader"  # router id of the leader, on its lease
ROUTERS = f"{ROOT}/routers/"  # routers/<id> -> {"zone", "listen"}, on the router's lease while it serves
ACTIVE_VERSION = f"{ROOT}/models/intent/active"  # active model version, e.g. "1"
PREVIOUS_VERSION = f"{ROOT}/models/intent/previous"  # what Rollback returns to
LOADED_VERSIONS = f"{ROOT}/models/intent/loaded"  # JSON list: versions every zone keeps loaded
MODEL_VERSIONS = f"{ROOT}/models/intent/versions/"  # versions/<v> -> {"trained_at", "report"}
JOBS = f"{ROOT}/jobs/"  # jobs/<id> -> train / deploy / rollback job JSON (trainer/job_runner.py runs them)
KB_VERSIONS = f"{ROOT}/kb/versions/"  # kb/versions/<v> -> knowledge-base snapshot JSON
KB_FAQS = f"{ROOT}/kb/faqs/"  # kb/faqs/<id> -> the editable FAQ entry (twinteller/knowledge/faqs.py)
KB_AUDIT = f"{ROOT}/kb/audit/"  # kb/audit/<time_ns>-<n> -> who changed which entries, when
KB_SEEDED = f"{ROOT}/kb/seeded"  # set once the seed knowledge base was written
KB_LEXICON = f"{ROOT}/kb/lexicon/"  # kb/lexicon/<hex of the term> -> {"term", "canonical"}
KB_LEXICON_SEEDED = f"{ROOT}/kb/lexicon-seeded"  # set once the seed lexicon was written
KB_PROPOSALS = f"{ROOT}/kb/proposals/"  # kb/proposals/<time_ns>-<hex> -> Proposal (maker-checker)
# kb/lexicon-suggested/<hex of the term> -> the id of the insights worker's proposal of it (once)
KB_LEXICON_SUGGESTED = f"{ROOT}/kb/lexicon-suggested/"
SESSIONS = f"{ROOT}/sessions/"  # sessions/<sid> -> context JSON, on a TTL lease
TURNS = f"{ROOT}/turns/"  # turns/<sid>/<turn_id> -> stored response, same lease as the session
# conflicts/<sid>/<time_ns> -> a session served on both sides of a partition and merged
# (router/conversation/sessions.py), on the session's lease
CONFLICTS = f"{ROOT}/conflicts/"
FEEDBACK = f"{ROOT}/feedback/"  # feedback/<sid>/<turn_id> -> rating JSON
# unrecognised/<time_ns>/<sid>/<turn_id> -> text, candidates; on a retention lease; time first,
# so the newest are read without reading all (Store.newest).
UNRECOGNISED = f"{ROOT}/unrecognised/"
# traffic/<minute>/<router id> -> that router's turn counts (twinteller/knowledge/turn_counts.py)
TRAFFIC = f"{ROOT}/traffic/"
INSIGHTS = f"{ROOT}/insights/"  # insights/<name> -> what insights/insight_worker.py computed last
CLUSTER_RULES = f"{ROOT}/cluster-rules/"  # <id> -> a knowledge manager's correction (insights/curation.py)
# Replacing the legacy bot (twinteller/migration/cutover.py): the state every router follows, the
# comparison counts per 10 s slot and router, and the disagreeing turns (time first).
CUTOVER = f"{ROOT}/cutover/state"
CUTOVER_STATS = f"{ROOT}/cutover/stats/"  # cutover/stats/<slot>/<router id>
CUTOVER_DIFFERENCES = f"{ROOT}/cutover/differences/"  # cutover/differences/<time_ns>/<sid>/<turn_id>
# Release safety (twinteller/release/): conversation test suites, the canary, per-version counts.
TEST_SUITES = f"{ROOT}/release/suites/"  # release/suites/<name> -> Suite JSON (twinteller/release/suites.py)
CANARY = f"{ROOT}/release/canary"  # the canary state (twinteller/release/canary.py)
VERSION_STATS = f"{ROOT}/release/stats/"  # release/stats/<slot>/<router id> -> counts per model version


def zone(name: str) -> str:
    return ZONES + name


def router(identity: str) -> str:
    return ROUTERS + identity


def health(name: str) -> str:
    return HEALTH + name


def kb_version(version: str) -> str:
    return KB_VERSIONS + version


def session(session_id: str) -> str:
    return SESSIONS + session_id


def turn(session_id: str, turn_id: str) -> str:
    return f"{TURNS}{session_id}/{turn_id}"


def conflict(session_id: str) -> str:
    return f"{CONFLICTS}{session_id}/{time.time_ns():020d}"


def feedback(session_id: str, turn_id: str) -> str:
    return f"{FEEDBACK}{session_id}/{turn_id}"


def unrecognised(session_id: str, turn_id: str) -> str:
    return f"{UNRECOGNISED}{time.time_ns():020d}/{session_id}/{turn_id}"


def unrecognised_since(at: float) -> str:
    """Every unrecognised record written after `at` (Unix seconds) has a greater key."""
    return f"{UNRECOGNISED}{int(at * 1e9):020d}"


def cluster_rule(rule_id: str) -> str:
    return CLUSTER_RULES + rule_id


def faq(faq_id: str) -> str:
    return KB_FAQS + faq_id


def model_version(version: str) -> str:
    return MODEL_VERSIONS + version


def job(job_id: str) -> str:
    return JOBS + job_id


def lexicon(term: str) -> str:
    """Terms are case-insensitive and may hold any character: the key holds the hex of the
    case-folded UTF-8."""
    return KB_LEXICON + term.casefold().encode("utf-8").hex()


def lexicon_suggested(term: str) -> str:
    return KB_LEXICON_SUGGESTED + term.casefold().encode("utf-8").hex()


def traffic(minute: int, router_id: str) -> str:
    return f"{TRAFFIC}{minute:010d}/{router_id}"


def insights(name: str) -> str:
    return INSIGHTS + name


def cutover_stats(slot: int, router_id: str) -> str:
    return f"{CUTOVER_STATS}{slot:011d}/{router_id}"


def test_suite(name: str) -> str:
    return f"{TEST_SUITES}{name}"


def version_stats(slot: int, router_id: str) -> str:
    return f"{VERSION_STATS}{slot:011d}/{router_id}"


def cutover_difference(session_id: str, turn_id: str) -> str:
    return f"{CUTOVER_DIFFERENCES}{time.time_ns():020d}/{session_id}/{turn_id}"


def proposal(proposal_id: str) -> str:
    return KB_PROPOSALS + proposal_id
