"""How dark each donor is where the blend fades it out: the mean luma of the band where its
outline is between 5% and 95%, over the mean luma of its inner face (outline >= 99%). A dark band
shows as a dark rim inside the protected face (models/imn-donors.md, "Rim").

    python scripts/donor_rims.py [BANK_FOLDER ...]     # default models/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from imn_export.donors.bank import read_bank
from imn_export.weights import MODELS_DIR
from imn_sdk.masks import to_ycbcr


def rim_ratios(donors: np.ndarray) -> np.ndarray:
    """``donors (K, S, S, 4)`` uint8 -> ``(K,)`` rim luma over inner-face luma."""
    ratios = []
    for donor in donors:
        luma, outline = to_ycbcr(donor[..., :3])[..., 0], donor[..., 3] / 255
        rim, inner = (outline > 0.05) & (outline < 0.95), outline >= 0.99
        ratios.append(luma[rim].mean() / luma[inner].mean())
    return np.array(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("banks", nargs="*", default=[str(MODELS_DIR)])
    for bank in parser.parse_args().banks:
        r = rim_ratios(read_bank(Path(bank)))
        print(f"{bank}: rim/inner luma worst {r.min():.2f}, median {np.median(r):.2f}, "
              f"{(r < 0.9).sum()} of {len(r)} donors below 0.90")


if __name__ == "__main__":
    main()
