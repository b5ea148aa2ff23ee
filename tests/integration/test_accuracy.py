"""Recognition quality through the running cluster, on a sample (the full figures come
from `make eval`): every 8th BANKING77 test query (385) and the whole out-of-domain set."""

from __future__ import annotations

import asyncio

import pytest

from twinteller.evaluation import evaluate
from twinteller.localcluster import LocalCluster

pytestmark = pytest.mark.integration


def test_banking_questions_are_recognised_and_others_fall_back(cluster: LocalCluster) -> None:
    report = asyncio.run(evaluate([cluster.layout.router_target(z) for z in cluster.layout.routers], every=8))
    assert report.errors == 0
    assert len(report.in_domain) == 385
    # Full test set: 94.2 % top-1 (make eval); a sample of 385 stays well above 90 %.
    assert report.top1_accuracy >= 0.90
    assert report.in_domain_fallback <= 0.05
    assert report.out_of_domain_fallback >= 0.90
