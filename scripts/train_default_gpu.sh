#!/usr/bin/env bash
# How models/imn-inn-paper.pt (the default until 2026-11-29, which models/imn-inn-default.pt
# was fine-tuned from) was trained on a lent GPU (H100/H200), over a folder of
# training-split faces copied to .gpu/faces (the shared folder does not travel to that machine).
# Usage: OUT=dir [INIT=weights.pt] [SSIM=0.005] [COMMAND=qat] [DONORS=4] bash scripts/train_default_gpu.sh [minutes] [lr]
#   INIT set: fine-tune from those weights (fresh optimizer); unset: train from scratch.
#   DONORS=N: the Masks are Masks v2 from models/donors-256.png, N composed per face on all cores
#   before the first step (issue #17: the hiding network on the product's Masks), and validation
#   is judged under donor Masks. E.g. OUT=o INIT=models/imn-inn-default.pt SSIM=0.01 DONORS=4
#   bash scripts/train_default_gpu.sh 8 1e-4
#   ARGS="...": more train-inn flags. E.g. a half-size network for issue #20 (phones):
#   OUT=o INIT=models/imn-inn-default.pt SSIM=0.01 DONORS=4 ARGS="--blocks 4 --init-blocks spread"
#   bash scripts/train_default_gpu.sh 8 1.5e-4
# Prepare .gpu/faces here (the carry limit is 64 MiB, so about 1,900 of the 3,672 training faces):
#   python -c "import shutil, pathlib; from imn_export.data import split_train_val; \
#     from imn_export.io import list_images; d = pathlib.Path('.gpu/faces'); d.mkdir(parents=True); \
#     [shutil.copy(p, d) for p in split_train_val(list_images('../shared/data/faces'))[0][::2]]"
set -euo pipefail
minutes=${1:-7.3}
lr=${2:-3e-4}
init_args=()
[[ -n "${INIT:-}" ]] && init_args=(--init-from "$INIT")
[[ -n "${DONORS:-}" ]] && init_args+=(--donors --donor-draws "$DONORS")
[[ -n "${ARGS:-}" ]] && read -ra extra <<< "$ARGS" && init_args+=("${extra[@]}")
export PYTHONPATH=$PWD${EXTRA_PYTHONPATH:+:$EXTRA_PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi -L || true
python3 -c "import torch, skimage, tqdm, PIL, kornia; print('torch', torch.__version__, torch.cuda.get_device_name())"
python3 -m imn_export.cli.imn "${COMMAND:-train-inn}" --data .gpu/faces --out "$OUT/default" --steps 0 \
  --minutes "$minutes" --batch 32 --patch 128 --lr "$lr" --ssim-weight "${SSIM:-0}" \
  --device cuda --no-progress --val-every 500 --checkpoint-every 1000 "${init_args[@]}" \
  2>&1 | tee "$OUT/train.log"
