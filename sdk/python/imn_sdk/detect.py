"""MTCNN's cascade around the bundle's three detector graphs: pyramid -> PNet proposals -> RNet
refinement -> ONet boxes and five landmarks. Plain NumPy, so the Swift and Kotlin SDKs can follow
it line by line. Graph I/O: sdk/spec/bundle.md ("detector")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image

# MTCNN's published defaults (the mtcnn package uses the same).
THRESHOLDS = (0.6, 0.7, 0.8)
SCALE_FACTOR = 0.709
CELL, STRIDE = 12, 2
OUTSIDE = 127.5 / 255  # a patch's area outside the photo: what MTCNN's normalisation maps to 0

Runner = Callable[..., tuple[np.ndarray, ...]]


@dataclass(frozen=True)
class Face:
    """One detected face in photo pixel coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    landmarks: np.ndarray                    # (5, 2) x, y: left eye, right eye, nose, mouth corners

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


def scale_pyramid(height: int, width: int, min_face: float) -> list[float]:
    """Scales at which a ``min_face``-pixel face fills PNet's 12-px cell, down to a 12-px image."""
    scales, scale = [], CELL / min_face
    while min(height, width) * scale >= CELL:
        scales.append(scale)
        scale *= SCALE_FACTOR
    return scales


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Indices kept by greedy non-maximum suppression; ``boxes (N, 4)`` x1, y1, x2, y2."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = np.argsort(-scores), []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        denominator = np.minimum(areas[i], areas[rest]) if method == "min" else areas[i] + areas[rest] - inter
        order = rest[inter / denominator <= threshold]
    return np.asarray(keep, dtype=np.int64)


def square(boxes: np.ndarray) -> np.ndarray:
    """Each box grown to a square about its centre."""
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w / 2 - side / 2
    out[:, 1] = boxes[:, 1] + h / 2 - side / 2
    out[:, 2:4] = out[:, 0:2] + side[:, None]
    return out


def regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * np.stack([w, h, w, h], axis=1)


def crop_patches(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Bilinear ``size x size`` samples of each box of ``image (H, W, 3)`` (uint8, or float in
    [0, 1]), as ``(N, 3, size, size)`` float in [0, 1]; outside the photo reads as mid-grey.

    A uint8 photo is converted per sampled pixel, so no float copy of the whole photo is made
    (144 MB for 12 MP)."""
    h, w = image.shape[:2]
    steps = np.linspace(0.0, 1.0, size)
    patches = np.empty((len(boxes), 3, size, size), np.float32)
    for n, (x1, y1, x2, y2) in enumerate(boxes):
        ys, xs = y1 + steps * (y2 - y1), x1 + steps * (x2 - x1)
        y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
        fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]

        def at(yy, xx):
            inside = ((yy >= 0) & (yy < h))[:, None] & ((xx >= 0) & (xx < w))[None, :]
            values = image[np.clip(yy, 0, h - 1)][:, np.clip(xx, 0, w - 1)]
            if values.dtype == np.uint8:
                values = values.astype(np.float32) / 255
            return np.where(inside[..., None], values, OUTSIDE)

        sample = (at(y0, x0) * (1 - fy) * (1 - fx) + at(y0, x0 + 1) * (1 - fy) * fx
                  + at(y0 + 1, x0) * fy * (1 - fx) + at(y0 + 1, x0 + 1) * fy * fx)
        patches[n] = sample.transpose(2, 0, 1)
    return patches


def level_side(side: int, scale: float) -> int:
    """A pyramid level's side: ``side * scale`` rounded up to an even number. Even sides give PNet's
    2x2 pooling no partial window, so a static window slid over the level (``windowed_pnet``)
    reproduces the whole-level run exactly."""
    return 2 * max(1, int(np.ceil(side * scale / 2)))


def window_starts(length: int, window: int) -> list[int]:
    """Even offsets of PNet windows along a level side: each window adds ``window / 2 - 5`` cells,
    the last one is moved back to end at the level's edge."""
    if length <= window:
        return [0]
    return list(range(0, length - window, window - 10)) + [length - window]


def windowed_pnet(run_window: Runner, window: int) -> Runner:
    """A whole-level PNet runner from a static graph of input ``[1, 3, window, window]`` (mobile
    runtimes): zero-padded windows at even offsets; of each, the first ``window / 2 - 5`` cells per
    axis, whose receptive fields lie inside the window, so they equal the whole-level run's."""
    cells = window // 2 - 5

    def run(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, _, h, w = image.shape
        if h % 2 or w % 2:
            raise ValueError(f"PNet windows need an even-sized level, got {h}x{w}")
        rows, cols = h // 2 - 5, w // 2 - 5
        offsets = np.zeros((1, 4, rows, cols), np.float32)
        prob = np.zeros((1, rows, cols), np.float32)
        for y in window_starts(h, window):
            for x in window_starts(w, window):
                patch = np.zeros((1, 3, window, window), np.float32)
                block = image[:, :, y:y + window, x:x + window]
                patch[:, :, :block.shape[2], :block.shape[3]] = block
                o, p = run_window(patch)
                r, c = min(cells, rows - y // 2), min(cells, cols - x // 2)
                offsets[:, :, y // 2:y // 2 + r, x // 2:x // 2 + c] = o[:, :, :r, :c]
                prob[:, y // 2:y // 2 + r, x // 2:x // 2 + c] = p[:, :r, :c]
        return offsets, prob
    return run


def one_by_one(run_one: Runner) -> Runner:
    """An N-box RNet or ONet runner from a static graph of batch 1."""
    def run(patches: np.ndarray) -> tuple[np.ndarray, ...]:
        outputs = [run_one(patches[i:i + 1]) for i in range(len(patches))]
        return tuple(np.concatenate(parts) for parts in zip(*outputs))
    return run


def _resized(image_u8: np.ndarray, scale: float) -> np.ndarray:
    h, w = image_u8.shape[:2]
    size = (level_side(w, scale), level_side(h, scale))
    small = np.asarray(Image.fromarray(image_u8).resize(size, Image.BOX), np.float32) / 255
    return small.transpose(2, 0, 1)[None]


def _proposals(image_u8: np.ndarray, pnet: Runner, min_face: float) -> np.ndarray:
    found = []
    for scale in scale_pyramid(*image_u8.shape[:2], min_face):
        offsets, prob = pnet(_resized(image_u8, scale))
        ys, xs = np.nonzero(prob[0] > THRESHOLDS[0])
        if not len(ys):
            continue
        cells = np.stack([xs * STRIDE, ys * STRIDE, xs * STRIDE + CELL, ys * STRIDE + CELL], 1)
        boxes = (cells + offsets[0][:, ys, xs].T * CELL) / scale
        scores = prob[0, ys, xs]
        keep = nms(boxes, scores, 0.5)
        found.append(np.column_stack([boxes[keep], scores[keep]]))
    if not found:
        return np.empty((0, 5))
    candidates = np.concatenate(found)
    candidates = candidates[nms(candidates[:, :4], candidates[:, 4], 0.7)]
    candidates[:, :4] = square(candidates[:, :4])
    return candidates


def detect_faces(image_u8: np.ndarray, runners: dict[str, Runner], min_face: float = 20.0) -> list[Face]:
    """Faces of an RGB photo ``(H, W, 3)`` uint8, largest first.

    ``runners`` maps ``pnet``, ``rnet``, ``onet`` to callables over the bundle graphs' inputs,
    returning their outputs in manifest order.
    """
    boxes = _proposals(image_u8, runners["pnet"], min_face)
    if not len(boxes):
        return []
    offsets, prob = runners["rnet"](crop_patches(image_u8, boxes[:, :4], 24))
    keep = prob > THRESHOLDS[1]
    boxes, offsets, prob = boxes[keep], offsets[keep], prob[keep]
    if not len(boxes):
        return []
    keep = nms(boxes[:, :4], prob, 0.7)
    boxes = square(regress(boxes[keep, :4], offsets[keep]))

    offsets, marks, prob = runners["onet"](crop_patches(image_u8, boxes, 48))
    keep = prob > THRESHOLDS[2]
    boxes, offsets, marks, prob = boxes[keep], offsets[keep], marks[keep], prob[keep]
    if not len(boxes):
        return []
    w = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
    h = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
    xs = boxes[:, 0:1] + w * marks[:, 0:5] - 1
    ys = boxes[:, 1:2] + h * marks[:, 5:10] - 1
    boxes = regress(boxes, offsets)
    keep = nms(boxes, prob, 0.7, "min")
    faces = [Face(tuple(float(v) for v in boxes[i]), float(prob[i]),
                  np.stack([xs[i], ys[i]], axis=1).astype(np.float32)) for i in keep]
    return sorted(faces, key=lambda f: -f.width)
