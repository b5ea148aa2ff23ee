# syntax=docker/dockerfile:1
# The one twinteller image: routers, zone agents (and the tritonserver from nvidia-pytriton
# that each agent launches), the trainer, the insights worker and the console; the Helm
# chart in helm/twinteller runs every process from it.
#
#   docker build -t twinteller:0.1.0 .
#   docker build -t twinteller:0.1.0-gpu --build-arg ONNXRUNTIME="onnxruntime-gpu[cuda,cudnn]==1.32.0" .
#
# Not built by the tests: the development and CI machines have no docker daemon
# (tests/unit/test_helm_chart.py checks the chart that runs it, offline).
# The model is not in the image: it is built at run time into the model volume (the
# chart's trainer runs `python -m trainer.training --model-repo /models --version 1` once).
FROM python:3.11-slim-bookworm

# make: `make protos`. tini: PID 1 that passes SIGTERM on (the trainer, insights worker and
# console have no handler of their own) and reaps Triton's orphaned python stubs.
# util-linux: setpriv (Triton dies with its agent). libexpat1: Triton's python backend.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make tini util-linux libexpat1 \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app
WORKDIR /app

# torch first, pinned, CPU build (as the Makefile does): a bare `torch` pulled in by a
# dependency would be a multi-GB CUDA build. It only exports the encoder to ONNX; zones run
# the encoder with onnxruntime.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN python -m venv /app/.venv \
 && pip install --upgrade pip \
 && pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0

COPY requirements.txt ./
RUN pip install -r requirements.txt

# GPU zones: onnxruntime's CUDA provider lives in the onnxruntime-gpu package (same module).
ARG ONNXRUNTIME=""
RUN if [ -n "$ONNXRUNTIME" ]; then pip uninstall -y onnxruntime && pip install "$ONNXRUNTIME"; fi

COPY . .
# The venv is already installed: mark it so `make protos` only generates the gRPC stubs;
# the project itself goes into it editable, for the `twinteller` command.
RUN pip install --no-deps --no-build-isolation -e . \
 && touch .venv/.installed \
 && make protos \
 && python -m compileall -q twinteller router zone trainer insights console legacy \
 && groupadd --gid 10001 twinteller \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/twinteller twinteller

USER 10001:10001
ENV HOME=/home/twinteller
# routers 50051 (gRPC) + 9464 (metrics); Triton 8000 (HTTP), 8001 (gRPC), 8002 (metrics); console 8080
EXPOSE 50051 9464 8000 8001 8002 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "router", "--listen", "0.0.0.0:50051", "--metrics-listen", "0.0.0.0:9464"]
