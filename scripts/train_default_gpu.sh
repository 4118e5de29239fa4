#!/usr/bin/env bash
# How models/imn-inn-default.pt was trained: one run on a lent GPU (H100/H200), over a folder
# of training-split faces copied to .gpu/faces (the shared folder does not travel to that machine).
# Usage: OUT=dir bash scripts/train_default_gpu.sh [minutes] [lr]
set -euo pipefail
minutes=${1:-7.3}
lr=${2:-3e-4}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi -L || true
python3 -c "import torch, skimage, tqdm, PIL; print('torch', torch.__version__, torch.cuda.get_device_name())"
python3 -m imn_export.cli.imn train-inn --data .gpu/faces --out "$OUT/default" --steps 0 \
  --minutes "$minutes" --batch 32 --patch 128 --lr "$lr" --device cuda --no-progress \
  --val-every 500 --checkpoint-every 1000 2>&1 | tee "$OUT/train.log"
