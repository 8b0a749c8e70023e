#!/usr/bin/env bash
# GPU checks and timings in one short run (a few minutes on an H100/H200).
# Installs nothing: it imports the package from this working tree and uses the
# machine's torch, numpy, scipy and scikit-learn.  Usage, from the repo root:
#
#     OUT=/tmp/gpu bash benchmarks/gpu_benchmark.sh [path/to/movielens-1m]
#
# Writes gpu_tests.log, gpu_training.md/.jsonl, gpu_precision.jsonl under $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/swdae-gpu}
ML1M=${1:-}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
$PY -c "import torch, sklearn, scipy, numpy; print('torch', torch.__version__, 'sklearn', sklearn.__version__, 'scipy', scipy.__version__, 'numpy', numpy.__version__); print(torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv

# 1. CUDA correctness: layer backends agree, training and on-device top-N.
timeout 240 $PY -m pytest -q -p no:cacheprovider -o addopts="" tests/test_layer_backends.py tests/test_autoencoders.py 2>&1 | tee "$OUT/gpu_tests.log" | tail -5

# 2. Speed: full ML-20M-shaped epochs, SW-DAE backends against FC-DAE and Mult-VAE.
CACHE=/tmp/ml20m_shaped.npz
$PY benchmarks/bench_training.py --device cuda --ks 1000 4000 15000 --backends dense sparse auto \
    --precisions float32 --epochs 2 --inference-users 100000 --timeout 150 --cache $CACHE \
    --out "$OUT/gpu_training_fp32.md" --jsonl "$OUT/gpu_training.jsonl" 2>&1 | grep -v '^{'
$PY benchmarks/bench_training.py --device cuda --ks 15000 --models fcdae swdae --backends dense auto \
    --precisions tf32 bfloat16 --epochs 2 --inference-users 100000 --timeout 150 --cache $CACHE \
    --out "$OUT/gpu_training_lowp.md" --jsonl "$OUT/gpu_training.jsonl" 2>&1 | grep -v '^{'

# 3. Accuracy effect of TF32 / bfloat16 (validation users only), ML-1M when given.
if [ -n "$ML1M" ]; then
    $PY benchmarks/bench_movielens.py --dataset "$(basename "$ML1M")" --data-root "$(dirname "$ML1M")" \
        --k 1000 --losses multinomial --normalizations l2 --precisions float32 tf32 bfloat16 \
        --device cuda --validation-only --out "$OUT/gpu_precision.jsonl" | cut -c1-400
fi
