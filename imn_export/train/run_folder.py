"""What every trainer of the auxiliary networks shares: a run folder with ``last.pt`` and
``metrics.jsonl``, refusal to overwrite, resume, a step budget in steps and minutes, a progress bar."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

from tqdm.auto import tqdm

from imn_export.train.checkpoint import save_checkpoint
from imn_export.weights import load_checkpoint

LAST_CHECKPOINT = "last.pt"


class RunFolder:
    """``out/last.pt`` (written atomically) and ``out/metrics.jsonl`` (appended)."""

    def __init__(self, out: str | Path, resume: bool):
        self.out = Path(out)
        self.last = self.out / LAST_CHECKPOINT
        self.state: dict | None = None
        if self.last.exists():
            if not resume:
                raise FileExistsError(f"{self.out} already holds a checkpoint ({self.last}); pass "
                                      "--resume to continue it or choose another --out")
            self.state = load_checkpoint(self.last)
        elif resume:
            raise FileNotFoundError(f"--resume given but {self.last} does not exist")
        self.out.mkdir(parents=True, exist_ok=True)

    def save(self, state: dict) -> None:
        save_checkpoint(self.last, state)

    def log(self, record: dict) -> None:
        with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


class StepBudget:
    """Steps ``start+1 .. steps``, stopping early once ``minutes`` of wall time are spent."""

    def __init__(self, steps: int, start: int = 0, minutes: float | None = None,
                 desc: str = "train", progress: bool = True):
        self.steps, self.step = steps, start
        self.deadline = time.time() + minutes * 60 if minutes else math.inf
        self.stopped_by_time = False
        self.bar = tqdm(total=steps, initial=start, desc=desc, unit="step", disable=not progress,
                        dynamic_ncols=True)

    def __iter__(self) -> Iterator[int]:
        try:
            while self.step < self.steps:
                if time.time() > self.deadline:
                    self.stopped_by_time = True
                    return
                self.step += 1
                yield self.step
                self.bar.update(1)
        finally:
            self.bar.close()

    def show(self, **values: float) -> None:
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)


def cosine_lr(step: int, steps: int, peak: float, warmup: int = 100, floor: float = 0.05) -> float:
    """Linear warm-up to ``peak``, cosine decay to ``floor * peak`` at ``steps``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
