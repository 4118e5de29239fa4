"""Run a bundle's graph files for another process over stdin/stdout, so the Kotlin and Swift SDKs
can test their whole pipeline on a desktop against the reference runtimes (ONNX Runtime, LiteRT)
before it runs on a phone.

Protocol, one request after another: a JSON line ``{"file": PATH, "inputs": [names],
"outputs": [names], "shapes": [[...], ...]}`` followed by the inputs' float32 little-endian bytes,
concatenated; the answer is a JSON line ``{"shapes": [[...], ...]}`` (or ``{"error": MESSAGE}``)
followed by the outputs' bytes. ``python -m imn_sdk.graph_server`` serves until stdin closes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from imn_sdk.bundle import _RUNNERS

# A bundle file's suffix is its target's name (".onnx", ".tflite").
RUNNERS = {f".{target}": runner for target, runner in _RUNNERS.items()}


def serve(stdin, stdout, threads: int = 2) -> None:
    sessions = {}
    while True:
        line = stdin.readline()
        if not line:
            return
        request = json.loads(line)
        arrays = []
        for shape in request["shapes"]:
            count = int(np.prod(shape))
            arrays.append(np.frombuffer(stdin.read(4 * count), "<f4").reshape(shape))
        try:
            path = Path(request["file"])
            key = (str(path), tuple(request["inputs"]), tuple(request["outputs"]))
            if key not in sessions:
                if path.suffix not in RUNNERS:
                    raise ValueError(f"{path}: only .onnx and .tflite graphs run here")
                sessions[key] = RUNNERS[path.suffix](path, request["inputs"], request["outputs"], threads)
            outputs = [np.ascontiguousarray(o, "<f4") for o in sessions[key](*arrays)]
        except Exception as error:  # reported to the client, which raises it in its own terms
            stdout.write((json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n").encode())
            stdout.flush()
            continue
        stdout.write((json.dumps({"shapes": [list(o.shape) for o in outputs]}) + "\n").encode())
        for o in outputs:
            stdout.write(o.tobytes())
        stdout.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
