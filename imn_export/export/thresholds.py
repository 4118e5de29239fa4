"""Pass/fail thresholds for every exported artifact, in one place.

``PARITY_PSNR``: artifact output vs the fp32 PyTorch reference on the same inputs, in dB over
[0, 1] images, per (graph, target, precision). ``RECOVERY_DROP_DB``: how far the end-to-end
recovered PSNR (hide on the artifact, masked face rounded to 8 bits, reveal on the artifact with
aux = 0) may fall below the reference's. ``INVERTIBILITY_MAX_ERROR``: max abs error of
reveal(hide(p, m), lost) with the true lost information, on the artifacts.
"""

from imn_export.export.formats import FORMATS

_PARITY_BY_PRECISION = {"fp32": 60.0, "fp16": 45.0, "int8": 30.0}

PARITY_PSNR: dict[tuple[str, str, str], float] = {
    (graph, fmt.key, precision): _PARITY_BY_PRECISION[precision]
    for graph in ("hide", "reveal", "masknet", "identity") for fmt in FORMATS.values()
    for precision in fmt.precisions
}

RECOVERY_DROP_DB = {"fp32": 0.1, "fp16": 0.5, "int8": 2.0}

INVERTIBILITY_MAX_ERROR = {"fp32": 1e-4, "fp16": 2e-2, "int8": 0.5}


def parity_threshold(graph: str, target: str, precision: str) -> float:
    try:
        return PARITY_PSNR[(graph, target, precision)]
    except KeyError:
        raise KeyError(f"no parity threshold for {graph} {target} {precision}; add one to "
                       f"{__name__}") from None
