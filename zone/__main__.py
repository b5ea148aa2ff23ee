"""`python -m zone --zone a --grpc-port 8001 ...`: run one zone (Triton + registration)."""

from __future__ import annotations

import asyncio
import logging

from twinteller.config import zone_config
from zone.agent import main_async


def main() -> None:
    config = zone_config()
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s zone-{config.zone} %(levelname)s %(message)s")
    asyncio.run(main_async(config))


if __name__ == "__main__":
    main()
