"""The record of what customers asked that the model could not place or was unsure of
(FALLBACK, a HANDOFF after fallbacks, a CLARIFY between intents, an ANSWER below
LOW_CONFIDENCE), for the insights work (insights/insight_worker.py clusters them): text,
session, turn, time, channel, the model version and its best guesses. Kept `retention_s` (30 days by default) on shared
leases, so the log is bounded in time without a cleaner.
"""

from __future__ import annotations

import json
import logging
import time

from router.conversation.dialogue import Decision
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.leases import LeasePool
from twinteller.etcd.store import Store

log = logging.getLogger(__name__)
# Calibrated (twinteller/model/calibration.py): an answer this sure is wrong about one time
# in five on BANKING77 test, worth a knowledge manager's look.
LOW_CONFIDENCE = 0.9


def worth_recording(decision: Decision) -> bool:
    choice = decision.action == "CLARIFY" and not decision.intent
    unsure = decision.action == "ANSWER" and decision.confidence < LOW_CONFIDENCE
    return decision.unrecognised or choice or unsure


class UnrecognisedLog:
    def __init__(self, store: Store, retention_s: int) -> None:
        self._store = store
        self._leases = LeasePool(store, retention_s, bucket_s=3600)

    async def entry(
        self, session_id: str, turn_id: str, text: str, channel: str, decision: Decision
    ) -> tuple[str, bytes, int] | None:
        """The record as (key, value, lease), written in the turn's own commit (one etcd
        transaction, not two); None (logged) when no lease could be had: best effort, the
        turn is answered either way."""
        result = decision.result
        record = {
            "text": text,
            "session_id": session_id,
            "turn_id": turn_id,
            "channel": channel,
            "at": time.time(),
            "action": decision.action,
            "language": decision.language,
            "model_version": result.version if result else "",
            "similarity": result.similarity if result else 0.0,
            "candidates": [{"intent": c.intent, "confidence": c.confidence} for c in decision.alternatives],
        }
        try:
            lease = await self._leases.current()
        except StoreError as e:
            log.warning("unrecognised query of %s/%s not recorded: %s", session_id, turn_id, e)
            return None
        return keys.unrecognised(session_id, turn_id), json.dumps(record).encode(), lease
