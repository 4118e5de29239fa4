"""Average two hiding-network checkpoints of the same architecture, weight by weight
(``w = (1 - alpha)·A + alpha·B``), into a new checkpoint that ``imn eval --weights`` and
``imn-export --weights`` take. Every coupling block stays invertible for any weights, so the
average is a valid network; between two fine-tunes of one start it trades their figures
(models/imn-inn-default.md).

    python scripts/average_weights.py A.pt B.pt --alpha 0.5 --out runs/avg.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imn_export.train.checkpoint import save_checkpoint
from imn_export.weights import load_checkpoint


def average(a: dict, b: dict, alpha: float) -> dict:
    if a["hiding_config"] != b["hiding_config"]:
        raise ValueError(f"architectures differ: {a['hiding_config']} vs {b['hiding_config']}")
    model = {k: ((1 - alpha) * a["model"][k].float() + alpha * b["model"][k].float())
             if a["model"][k].is_floating_point() else a["model"][k] for k in a["model"]}
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--alpha", type=float, required=True, help="share of B, 0..1")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not 0 <= args.alpha <= 1:
        parser.error("--alpha must lie in [0, 1]")
    if Path(args.out).exists():
        parser.error(f"{args.out} exists; choose another --out")
    a, b = load_checkpoint(args.a), load_checkpoint(args.b)
    # Only what describes the averaged network: a run's step, timings and validation figures
    # belong to that run, not to the average.
    state = {"model": average(a, b, args.alpha), "hiding_config": b["hiding_config"],
             "aux": b.get("aux", {"kind": "zeros", "std": 1.0}),
             "lineage": list(b.get("lineage", [])) + [{
                 "phase": "average", "device": "CPU", "steps": 0, "wall_seconds": 0.0,
                 "command": f"python scripts/average_weights.py {args.a} {args.b} --alpha {args.alpha:g} "
                            f"--out {args.out}"}]}
    save_checkpoint(args.out, state)
    print(f"wrote {args.out}: {1 - args.alpha:g}·{args.a} + {args.alpha:g}·{args.b}")


if __name__ == "__main__":
    main()
