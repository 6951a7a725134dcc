#!/usr/bin/env bash
# Short GPU check (a few minutes on one GPU): trains ScaleGMN on CUDA in float32 and with AMP (bf16, fp16)
# and on the CPU, on the same synthetic CNN zoo, and prints graphs/s side by side.
# Usage: scripts/gpu_check.sh [extra args for scripts/gpu_check.py]; writes reports/gpu_check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"
"$PYTHON" scripts/gpu_check.py "$@"
