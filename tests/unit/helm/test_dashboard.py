"""The Grafana dashboard shipped with the chart asks only for metrics the router exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from router.observability.metrics import Metrics
from twinteller.v1 import assistant_pb2 as pb

DASHBOARD = Path(__file__).parents[3] / "helm" / "twinteller" / "dashboards" / "twinteller.json"


def test_every_twinteller_series_in_the_dashboard_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for e in expressions for name in re.findall(r"\btwinteller_[a-z_]+", e)}
    metrics = Metrics()
    # Labelled series appear once used: use each once.
    metrics.observe_feedback("card_arrival", "app", 5)
    metrics.observe_turn("app", pb.ConverseResponse(zone="a", intent="x", action=pb.ANSWER), ("a:ok",))
    metrics.rpcs.labels("twinteller.v1.Assistant/Converse", "OK").inc()
    metrics.rpc_seconds.labels("twinteller.v1.Assistant/Converse").observe(0.01)
    metrics.observe_version_turn("2", "ANSWER", True, 0.01)
    metrics.version_errors.labels("2").inc()
    metrics.version_ratings.labels("2", "1").inc()
    exported = {s.name for family in metrics.registry.collect() for s in family.samples}
    exported |= {f.name for f in metrics.registry.collect()}
    assert used and used <= exported, used - exported
    assert any("nv_inference" in e for e in expressions)  # Triton's own metrics are kept too
