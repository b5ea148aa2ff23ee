"""`python -m insights`: the insights worker, which clusters unrecognised queries and finds
trends and satisfaction every round (insights/insight_worker.py). Settings:
twinteller/config.py InsightsConfig (`--help`)."""

from __future__ import annotations

import logging

from insights.insight_worker import Insights, Settings
from insights.trends import TrendPolicy
from twinteller.config import insights_config
from twinteller.process import run_with_store


def main() -> None:
    config = insights_config()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s insights %(levelname)s %(message)s")
    settings = Settings(
        interval_s=config.interval_s,
        trends=TrendPolicy(window_min=config.trend_window_min, baseline_min=config.trend_baseline_min),
    )
    run_with_store(
        config.etcd,
        config.tls,
        lambda store: Insights(store, config.question_cache, settings).run(),
    )


if __name__ == "__main__":
    main()
