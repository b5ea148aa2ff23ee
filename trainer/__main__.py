"""`python -m trainer`: the trainer process, which runs the train, deploy and rollback jobs
that routers queue in etcd (trainer/job_runner.py). Settings: twinteller/config.py
TrainerConfig (`--help`)."""

from __future__ import annotations

import logging

from trainer.job_runner import Trainer
from twinteller.config import trainer_config
from twinteller.process import run_with_store


def main() -> None:
    config = trainer_config()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s trainer %(levelname)s %(message)s")
    run_with_store(
        config.etcd,
        config.tls,
        lambda store: Trainer(store, config.model_repo, config.cache, config.zone_timeout_s).run(),
    )


if __name__ == "__main__":
    main()
