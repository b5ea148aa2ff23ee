# twinteller: `make run` brings up the local two-zone cluster, `make test` runs the suite.
# Both install what they need: a venv in .venv, etcd through apt when missing, the
# generated gRPC stubs and the model (ONNX export of MiniLM + intent heads, version 1).

VENV := .venv
PY := $(VENV)/bin/python
TWINTELLER := $(VENV)/bin/twinteller
export PYTHONPATH := $(CURDIR)
export HF_HUB_OFFLINE := 1

STAMP_VENV := $(VENV)/.installed
STAMP_PROTOS := twinteller/v1/assistant_pb2.py
STAMP_MODEL := model_repo/intent/1/kb.json
PROTOS := $(wildcard protos/twinteller/*/*.proto)

.PHONY: all deps venv etcd browser protos model run kill-site kill heal chat test test-unit test-integration test-chaos test-sites eval eval-import bench bench-failover bench-versions bench-profile bench-gpu bench-growth bench-ivr loadtest lint clean

all: deps

deps: venv etcd protos model

venv: $(STAMP_VENV)
$(STAMP_VENV): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: a bare `torch` pulled by a dependency would be a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.txt
	# The project itself, editable: the `twinteller` command (pyproject.toml [project.scripts]).
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# Headless Chromium and its driver, for the console's browser tests.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  echo "installing chromium and chromium-driver through apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

etcd:
	@command -v etcd >/dev/null 2>&1 || { \
	  echo "installing etcd-server through apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client >/dev/null; }

protos: $(STAMP_PROTOS)
$(STAMP_PROTOS): $(PROTOS) $(STAMP_VENV)
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=. --pyi_out=. --grpc_python_out=. $(PROTOS)
	touch twinteller/v1/__init__.py twinteller/internal/__init__.py twinteller/legacybot/__init__.py

model: $(STAMP_MODEL)
$(STAMP_MODEL): $(STAMP_VENV) twinteller/data/seed_faq.json twinteller/data/lexicon.json \
		twinteller/data/chinese_questions.json twinteller/data/english_questions.json \
		twinteller/data/english_tuning.csv twinteller/data/chinese_tuning.csv \
		twinteller/knowledge/lexicon.py twinteller/knowledge/schema.py \
		twinteller/knowledge/text.py twinteller/model/variants.py twinteller/model/triton_model.py \
		twinteller/model/intent_model.py twinteller/model/multilingual.py twinteller/model/speller.py \
		twinteller/model/calibration.py trainer/training.py
	$(PY) -m trainer.training --model-repo model_repo --version 1 --force

# HA=1: a three-member etcd cluster instead of one member. Mutual TLS on every hop with a
# local CA in run/tls; PLAINTEXT=1 for none (development only).
run: deps
	$(TWINTELLER) cluster $(if $(filter 1 yes true,$(HA)),--ha,) \
	  $(if $(filter 1 yes true,$(PLAINTEXT)),--plaintext,)

# Requests to the running `make run` (twinteller/devcluster/launcher.py): kill a whole site
# (SITE=a or b) or one process (NAME=router-a), then start what is down again.
kill-site:
	$(TWINTELLER) cluster kill-site $(SITE)
kill:
	$(TWINTELLER) cluster kill $(NAME)
heal:
	$(TWINTELLER) cluster heal

# As a caller holding the local cluster's client certificate (run/tls).
LOCAL_TLS := $(if $(filter 1 yes true,$(PLAINTEXT)),--plaintext,--tls-ca run/tls/ca.pem --tls-cert run/tls/client.pem --tls-key run/tls/client-key.pem)
chat: $(STAMP_PROTOS)
	$(TWINTELLER) chat $(LOCAL_TLS) $(if $(TARGET),--target $(TARGET),)

# --durations: the 30 slowest steps, printed at the end, to keep the suite under its 25 minutes.
test: deps browser lint
	$(PY) -m pytest tests -m "not sites_full" --durations=30

test-unit: venv protos
	$(PY) -m pytest tests/unit

test-integration: deps browser
	$(PY) -m pytest tests/integration

# The chaos suite alone (it is also part of `make test`).
test-chaos: deps
	$(PY) -m pytest -m chaos tests/integration

# Whole sites lost and links between sites cut, with real network faults (root: network
# namespaces; README "Partitions"). ~6 minutes. `make test` runs a short version.
test-sites: deps
	$(PY) -m pytest -m sites_full tests/sites

eval: deps
	$(TWINTELLER) eval

# Per platform sample export (twinteller/data/platform_samples/): what it has and what came
# across, per kind, and what did not (README "Moving in"). No cluster needed.
eval-import: venv
	$(TWINTELLER) import-report

# Where a turn's time goes: encoder, dynamic batching, bare gRPC relay, direct Triton vs
# router, with ratios against baselines of the same run (docs/benchmarks.md). ~4 minutes.
bench: deps
	$(PY) -m bench.performance $(ARGS)

# Failover times under load (docs/benchmarks.md). ARGS="--runs 1" for a quick look.
bench-failover: deps
	$(PY) -m bench.failover $(ARGS)

# What a second model version loaded beside the active one costs each zone (memory, idle
# CPU, load time, latency): a canary or a version under test (README "Releases").
bench-versions: deps
	$(PY) -m bench.versions $(ARGS)

# Where the routers', the insights worker's and a zone's CPU goes under load: py-spy flame
# graphs (SVG) and collapsed stacks in docs/profiles/, the hottest functions printed.
bench-profile: deps
	$(PY) -m bench.flamegraphs $(ARGS)

# How cost grows: train, load, deploy, memory and the heads' time per sentence against the
# knowledge base's size (77, 1,000, 5,000 entries, generated), and a turn's latency against
# its position in a 30-turn conversation (docs/benchmarks.md "Cost per turn").
bench-growth: deps
	$(PY) -m bench.growth $(ARGS)

# What an IVR's n-best list costs: one batched model call against one call per hypothesis
# (Triton directly), and a turn of n hypotheses against one of a transcript (README "IVR integration").
bench-ivr: deps
	$(PY) -m bench.ivr $(ARGS)

# The model on a GPU: the encoder by batch size (GPU vs CPU), and a GPU zone's served model
# with dynamic batching and batches of one. Exits 2 saying what is missing where there is
# no GPU (driver, onnxruntime-gpu: requirements-gpu.txt).
bench-gpu: deps
	$(PY) -m bench.gpu $(ARGS)

# A bounded headless Locust run against a local cluster it starts, zone a's Triton killed
# 20 s in; CSV + HTML reports in run/loadtest; fails on failure ratio or p99 (loadtest/run.py).
# ARGS="--target 127.0.0.1:50051,127.0.0.1:50052" for a running cluster instead.
loadtest: deps
	$(PY) -m loadtest.run $(if $(ARGS),$(ARGS),--kill-zone-at 20)

lint: venv protos
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf build run model_repo/intent/[0-9]* model_repo/intent/encoder twinteller/v1 twinteller/internal twinteller/legacybot
