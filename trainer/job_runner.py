"""The trainer: runs the lifecycle jobs that knowledge managers request through the admin
API (`jobs/<id>` in etcd), one at a time, outside the router processes.

- train: the live entries of the knowledge base (enabled, within their dates, with
  questions) -> a new version directory of the `intent` model (trainer/training.py; the
  embedding cache makes a retrain after an edit re-embed only what changed), and an offline
  evaluation of it and of the active version on the BANKING77 test set and its noisy copy.
  Old versions are pruned afterwards (to_prune).
- deploy v: every zone is asked to load v next to the active version (`models/intent/loaded`);
  once every registered zone lists v as loaded and answers a test call with it, its
  knowledge-base snapshot is published and the active version switches to v in one etcd
  transaction (the old one becomes `previous`). Routers pick the switch up by watch; a turn
  is answered with the snapshot of the version that recognised it, so no turn mixes two.
- rollback: the active and previous versions swap, in one transaction; both are loaded.

    python -m trainer --etcd 127.0.0.1:2379 --model-repo model_repo
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import tritonclient.grpc as triton_grpc
import tritonclient.grpc.aio as triton_aio

from trainer.training import build_version, refresh_model_sources
from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.mirror import PrefixMirror
from twinteller.etcd.store import Store
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import Lexicon, LexiconEntry
from twinteller.knowledge.schema import BANKING77, CHINESE_HELDOUT, NOISY_TEST, Snapshot, read_labelled_csv
from twinteller.model.embeddings import Embeddings
from twinteller.model.intent_model import IntentClassifier
from twinteller.model.jobs import FAILED, QUEUED, RUNNING, SUCCEEDED, JobRecord
from twinteller.model.paths import KB_FILE, model_dir
from twinteller.tls import triton_arguments

log = logging.getLogger(__name__)
MODEL = "intent"
KEEP_VERSIONS = 5  # built versions kept besides the seed (1), the active, previous and loaded ones
JOB_RETENTION_S = 7 * 24 * 3600  # finished jobs are forgotten after this long


def to_prune(built: list[int], pinned: set[int], keep: int = KEEP_VERSIONS) -> list[int]:
    """The built versions to delete: all but the newest `keep`, the seed and `pinned`."""
    old = sorted(built, reverse=True)[keep:]
    return sorted(v for v in old if v != 1 and v not in pinned)


class JobFailed(Exception):
    """A job that cannot be done; its message is what the knowledge manager reads."""


class Trainer:
    def __init__(self, store: Store, model_repo: Path, cache_path: Path, zone_timeout_s: float) -> None:
        self._store = store
        self._repo = model_repo
        self._cache_path = cache_path
        self._zone_timeout = zone_timeout_s
        self._changed = asyncio.Event()
        self._jobs = PrefixMirror(store, keys.JOBS, on_change=lambda _: self._changed.set())
        self._cache: Embeddings | None = None

    async def _fail_abandoned(self) -> None:
        """Jobs left RUNNING by a trainer that died: say so instead of leaving them hanging."""
        entries, _ = await self._store.get_prefix(keys.JOBS)
        for entry in entries:
            job = JobRecord.from_json(entry.value)
            if job.state == RUNNING:
                failed = job.finished(FAILED, time.time(), message="the trainer stopped while running it; retry")
                await self._store.put(entry.key, failed.to_json())

    async def run(self) -> None:
        refreshed = refresh_model_sources(self._repo)
        if refreshed:
            log.info("trainer: model.py of versions %s brought up to date", ", ".join(refreshed))
        await self._fail_abandoned()
        mirror = asyncio.create_task(self._jobs.run())
        backoff = Backoff(initial=0.2, maximum=5.0)
        try:
            while True:
                self._changed.clear()
                try:
                    while await self._next():
                        pass
                    backoff.reset()
                except StoreError as e:
                    log.warning("trainer: %s", e)
                    await backoff.sleep()
                    continue
                await self._changed.wait()
        finally:
            mirror.cancel()

    async def _next(self) -> bool:
        """Claim and run the oldest queued job; False when there is none."""
        entries, _ = await self._store.get_prefix(keys.JOBS)
        jobs = [(JobRecord.from_json(e.value), e) for e in entries]
        queued = sorted(((job, e) for job, e in jobs if job.state == QUEUED), key=lambda item: item[0].created_at)
        if not queued:
            return False
        job, entry = queued[0]
        running = replace(job, state=RUNNING)
        claimed = await self._store.commit(
            absent=[], unchanged={entry.key: entry.mod_revision}, puts={entry.key: running.to_json()}
        )
        if not claimed:
            return True  # another trainer took it
        log.info("job %s: %s %s", job.id, job.kind, job.version)
        started = time.monotonic()
        try:
            version, message, report = await getattr(self, f"_{job.kind}")(job)
            done = running.finished(SUCCEEDED, time.time(), message=message, version=version, report=report)
        except JobFailed as e:
            done = running.finished(FAILED, time.time(), message=str(e))
        except StoreError:
            raise
        except Exception as e:  # a bug: report it on the job rather than leave it RUNNING
            log.exception("job %s failed", job.id)
            done = running.finished(FAILED, time.time(), message=f"internal error: {type(e).__name__}: {e}")
        await self._store.put(entry.key, done.to_json())
        log.info("job %s: %s in %.1fs: %s", job.id, done.state, time.monotonic() - started, done.message)
        return True

    async def _prune(self) -> None:
        """Versions beyond the newest KEEP_VERSIONS lose their directory (~16 MB each) and
        their records in etcd, unless they are the seed, active, previous or loaded; finished
        jobs older than JOB_RETENTION_S go too. Run at the end of each train."""
        active, previous, loaded = await self._store.get_many(
            keys.ACTIVE_VERSION, keys.PREVIOUS_VERSION, keys.LOADED_VERSIONS
        )
        pinned = {int(e.value) for e in (active, previous) if e and e.value.isdigit()}
        pinned |= {int(v) for v in (json.loads(loaded.value) if loaded else []) if str(v).isdigit()}
        built = [int(p.name) for p in model_dir(self._repo).iterdir() if p.name.isdigit()]
        for version in to_prune(built, pinned):
            await self._store.commit(
                absent=[],
                unchanged={},
                puts={},
                deletes=(keys.model_version(str(version)), keys.kb_version(str(version))),
            )
            shutil.rmtree(model_dir(self._repo) / str(version), ignore_errors=True)
            log.info("pruned model version %s", version)
        entries, _ = await self._store.get_prefix(keys.JOBS)
        cutoff = time.time() - JOB_RETENTION_S
        stale = [e.key for e in entries if 0 < JobRecord.from_json(e.value).finished_at < cutoff]
        if stale:  # at most 1000 a time: etcd caps the operations in a transaction
            await self._store.commit(absent=[], unchanged={}, puts={}, deletes=tuple(stale[:1000]))

    # -- train ------------------------------------------------------------------------------
    def _embeddings(self) -> Embeddings:
        if self._cache is None:
            self._cache = Embeddings.at(self._cache_path, self._repo)
        return self._cache

    async def _train(self, job: JobRecord) -> tuple[str, str, str]:
        entries, _ = await self._store.get_prefix(keys.KB_FAQS)
        today = datetime.date.today()
        records = [FaqRecord.from_json(e.value) for e in entries]
        live = [r for r in records if r.live(today) and r.questions]
        if len({r.id for r in live}) < 2:
            raise JobFailed(f"only {len(live)} live entries with questions: a model needs at least two")
        existing, _ = await self._store.get_prefix(keys.MODEL_VERSIONS)
        on_disk = [int(p.name) for p in model_dir(self._repo).iterdir() if p.name.isdigit()]
        numbers = on_disk + [int(e.key.rsplit("/", 1)[1]) for e in existing]
        version = str(max(numbers, default=0) + 1)
        started = time.monotonic()
        faqs = [r.to_faq() for r in live]
        terms, _ = await self._store.get_prefix(keys.KB_LEXICON)
        lexicon = Lexicon([LexiconEntry.from_json(e.value) for e in terms])
        active_entry = await self._store.get(keys.ACTIVE_VERSION)
        active = active_entry.value.decode() if active_entry else ""
        built = await asyncio.to_thread(
            build_version, self._repo, int(version), faqs, self._embeddings(), lexicon,
            # A train without variants is a comparison: it starts cold, as warm from a model
            # trained with them it would stop near that model and measure part of their effect.
            generalise=job.generalise, previous=self._classifier(active) if job.generalise else None,
        )  # fmt: skip
        train_s = time.monotonic() - started
        report = await asyncio.to_thread(self._evaluate, version, active, lexicon)
        report.update(train_s=round(train_s, 1), entries=len(live), questions=built.questions, variants=built.variants)
        report["skipped"] = len(records) - len(live)
        await self._store.put(keys.model_version(version), json.dumps({"trained_at": time.time(), "report": report}))
        message = f"trained version {version} in {train_s:.1f}s (BANKING77 test accuracy {report.get('test_accuracy')})"
        try:
            await self._prune()  # before the job reads as done: a finished train has pruned
        except StoreError as e:  # housekeeping: the next train tries again
            log.warning("pruning old versions: %s", e)
        return version, message, json.dumps(report)

    def _classifier(self, version: str) -> IntentClassifier | None:
        """The built classifier of `version`, to start training from; None (train from
        scratch) when there is none or it cannot be read."""
        directory = model_dir(self._repo) / version
        if not version or not directory.exists():
            return None
        try:
            return IntentClassifier.load(directory)
        except Exception:  # an unreadable version only costs a cold fit
            log.warning("cannot start from version %s; training from scratch", version, exc_info=True)
            return None

    def _evaluate(self, version: str, active: str, lexicon: Lexicon) -> dict[str, object]:
        """Top-1 accuracy of `version` and of the active version on the BANKING77 test set,
        on its noisy copy (twinteller/devcluster/noise.py) and on the held-out Chinese set
        (README "Languages"), read as the router reads them."""
        report: dict[str, object] = {"active_version": active}
        classifiers = {"": self._classifier(version), "active_": self._classifier(active)}
        for name, path in (("test", BANKING77 / "test.csv"), ("noisy_test", NOISY_TEST), ("chinese", CHINESE_HELDOUT)):
            rows = read_labelled_csv(path)
            texts = [lexicon.model_text(t) for t, _ in rows]
            labels = np.array([label for _, label in rows])
            for prefix, classifier in classifiers.items():
                if classifier is not None:
                    best = self._embeddings().predict(classifier, texts).probabilities.argmax(1)
                    right = np.array(classifier.labels)[best] == labels
                    report[f"{prefix}{name}_accuracy"] = round(float(right.mean()), 4)
        return report

    # -- deploy and rollback --------------------------------------------------------------------
    async def _deploy(self, job: JobRecord) -> tuple[str, str, str]:
        version = job.version
        if not (model_dir(self._repo) / version / KB_FILE).exists():
            raise JobFailed(f"model version {version} is not built in {model_dir(self._repo)}")
        active_entry = await self._store.get(keys.ACTIVE_VERSION)
        active = active_entry.value.decode() if active_entry else ""
        if version == active:
            return version, f"version {version} is already active", ""
        loaded = sorted({v for v in (active, version) if v}, key=int)
        await self._store.put(keys.LOADED_VERSIONS, json.dumps(loaded))
        endpoints = await self._wait_loaded(version)
        await self._check_answers(endpoints, version)
        snapshot = Snapshot.from_json((model_dir(self._repo) / version / KB_FILE).read_bytes())
        await self._store.create(keys.kb_version(version), snapshot.to_json())
        switched = await self._store.commit(
            absent=[],
            unchanged={keys.ACTIVE_VERSION: active_entry.mod_revision if active_entry else 0},
            puts={keys.ACTIVE_VERSION: version.encode(), keys.PREVIOUS_VERSION: active.encode()},
            # An ended canary's pins go (twinteller/release/canary.py): every conversation
            # moves to the new version; a running one the router refused the deploy for.
            deletes=(keys.CANARY,),
        )
        if not switched:
            raise JobFailed("the active version changed while deploying; nothing switched")
        zones = ", ".join(sorted(endpoints))
        return version, f"version {version} is active (was {active}); loaded and checked in zones {zones}", ""

    async def _wait_loaded(self, version: str) -> dict[str, str]:
        """Zone -> endpoint, once every registered zone lists `version` as loaded."""
        deadline = time.monotonic() + self._zone_timeout
        while time.monotonic() < deadline:
            entries, _ = await self._store.get_prefix(keys.ZONES)
            zones = {e.key[len(keys.ZONES) :]: json.loads(e.value) for e in entries}
            if zones and all(version in z.get("versions", []) for z in zones.values()):
                return {name: str(z["endpoint"]) for name, z in zones.items()}
            await asyncio.sleep(0.5)
        raise JobFailed(f"not every zone loaded version {version} within {self._zone_timeout:.0f}s")

    async def _check_answers(self, endpoints: dict[str, str], version: str) -> None:
        for zone, endpoint in endpoints.items():
            client = triton_aio.InferenceServerClient(endpoint, **triton_arguments(self._store.tls))
            try:
                data = triton_grpc.InferInput("TEXT", [1, 1], "BYTES")
                data.set_data_from_numpy(np.array([[b"where is my card"]], dtype=np.object_))
                result = await client.infer(MODEL, [data], model_version=version, client_timeout=10)
                if not len(result.as_numpy("INTENTS")[0]):
                    raise JobFailed(f"zone {zone}: version {version} returned no intents")
            except JobFailed:
                raise
            except Exception as e:
                raise JobFailed(f"zone {zone}: version {version} does not answer: {e}") from e
            finally:
                await client.close()

    async def _rollback(self, job: JobRecord) -> tuple[str, str, str]:
        active, previous = await self._store.get_many(keys.ACTIVE_VERSION, keys.PREVIOUS_VERSION)
        if active is None or previous is None or not previous.value:
            raise JobFailed("no previous model version to roll back to")
        swapped = await self._store.commit(
            absent=[],
            unchanged={keys.ACTIVE_VERSION: active.mod_revision, keys.PREVIOUS_VERSION: previous.mod_revision},
            puts={keys.ACTIVE_VERSION: previous.value, keys.PREVIOUS_VERSION: active.value},
            deletes=(keys.CANARY,),  # as for a deploy
        )
        if not swapped:
            raise JobFailed("the active version changed while rolling back; nothing switched")
        back, was = previous.value.decode(), active.value.decode()
        return back, f"version {back} is active again (was {was})", ""
