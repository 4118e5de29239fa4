"""``imn sweep-lambda``: the paper's Table 2, one training run per loss ratio."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from imn_export.evaluate.hiding import evaluate_pairs, folder_pairs, select_images
from imn_export.io import write_json
from imn_export.weights import load_hiding_network
from imn_export.train.inn_trainer import TrainConfig, train_inn
from imn_export.train.run_folder import LAST_CHECKPOINT
from imn_export.train.losses import LossWeights


def run_lambda_sweep(base: TrainConfig, ratios: str, out: str | Path, eval_images: int = 20) -> str:
    """Train and evaluate each ratio (runs already finished are reused); return the table."""
    out = Path(out)
    weights = [LossWeights.parse(r) for r in ratios.split(",")]
    pairs = folder_pairs(select_images(base.data, "val", eval_images))
    results = []
    for w in weights:
        run = out / f"ratio-{w.label().replace(':', '-')}"
        config = replace(base, out=str(run), weights=w)
        checkpoint = run / LAST_CHECKPOINT
        done = checkpoint.exists() and load_hiding_network(checkpoint)[1]["step"] >= base.steps > 0
        summary = None if done else train_inn(config, resume=checkpoint.exists())
        net, meta = load_hiding_network(checkpoint, base.device)
        evaluation = evaluate_pairs(net, pairs, meta["aux"]["kind"], meta["aux"]["std"],
                                    base.device, progress=base.progress)
        results.append({"ratio": w.label(), "steps": meta["step"],
                        "wall_seconds": meta.get("wall_seconds"), "train_summary": summary,
                        "mean": evaluation["mean"]})
    steps = sorted(r["steps"] for r in results)
    step_text = f"{steps[0]} steps" if steps[0] == steps[-1] else f"{steps[0]}-{steps[-1]} steps"
    budget = (f"{step_text} each, batch {base.batch}, {base.patch}x{base.patch} "
              f"patches, lr {base.lr:g}, network {base.hiding.blocks} blocks / dense depth "
              f"{base.hiding.depth} / growth {base.hiding.growth}, device {base.device}; evaluated on "
              f"{len(pairs)} validation faces of {base.data} at full size from the 8-bit PNG")
    table = format_sweep_table(results, budget)
    write_json(out / "sweep.json", {"budget": budget, "results": results})
    (out / "sweep.md").write_text(table + "\n", encoding="utf-8")
    return table


def format_sweep_table(results: list[dict], budget: str) -> str:
    head = "| l1:l2:l3 | " + " | ".join(r["ratio"] for r in results) + " |"
    rule = "|---" * (len(results) + 1) + "|"
    rows = []
    for part, label in (("recovered", "recovered"), ("masked", "masked vs Mask")):
        for metric, fmt in (("psnr", "{:.2f}"), ("ssim", "{:.4f}"), ("rmse", "{:.3f}"), ("mae", "{:.3f}")):
            values = " | ".join(fmt.format(r["mean"][part][metric]) for r in results)
            rows.append(f"| {label} {metric.upper()} | {values} |")
    return "\n".join([f"Budget: {budget}", "", head, rule, *rows])
