"""How a face's donor is chosen, judged by dlib on synthetic validation faces (the tuning split):
the same-person rate (dlib distance < 0.6) of the Mask for each rule, and how often the donor's
apparent sex matches the face's label. The figures behind models/imn-donors.md ("every design
choice was made on the synthetic validation split"). The SDKs' rule is "8 farthest by identity,
same apparent sex" (the bank narrowed to the face's apparent sex, then the 8 farthest).

    python scripts/donor_choice_val.py --limit 150
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from imn_export.data import split_train_val
from imn_export.donors.bank import manifest_entry, read_bank
from imn_export.donors.choice import bank_identities, identity_graph, identity_vectors
from imn_export.identity.teacher import DlibJudge
from imn_export.io import list_images, read_rgb
from imn_export.weights import MODELS_DIR, load_identity_encoder
from imn_sdk.masks import apparent_male, compose, donor_candidates


def _farthest_then_sex(unit, vectors, sex, count):
    """A rule measured and not kept: the 8 farthest, then those of the face's apparent sex."""
    farthest = donor_candidates(unit, vectors, None, count)
    same = farthest[sex["donor_male"][farthest] == apparent_male(sex, unit[None])[0]]
    return same if len(same) else farthest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/faces")
    parser.add_argument("--limit", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bank", default=str(MODELS_DIR), help="folder of donors-256.png and donors.json")
    args = parser.parse_args()

    encoder = load_identity_encoder()
    judge, graph = DlibJudge(), identity_graph(encoder)
    bank = Path(args.bank)
    donors, sex = read_bank(bank), manifest_entry(bank)["sex"]
    vectors = np.asarray(bank_identities(manifest_entry(bank), donors, encoder), np.float32)
    sex = {**sex, "donor_male": apparent_male(sex, vectors)}
    dlib_donors = np.stack([judge.read(d[..., :3]).descriptor for d in donors])
    labels = {r["file"]: r["gender"] for r in csv.DictReader(open(Path(args.data) / "labels.csv"))}
    rng = np.random.default_rng(args.seed)
    rules = ("any donor", "nearest by dlib", "farthest by identity", "8 farthest by identity",
             "8 farthest by identity, same apparent sex",
             "8 farthest by identity, then those of its apparent sex")
    distance = {r: [] for r in rules}
    sex_agrees = {r: [] for r in rules}
    for path in split_train_val(list_images(args.data))[1][:args.limit]:
        face = read_rgb(path)
        protected = judge.read(face).descriptor
        unit = identity_vectors(graph, [face])[0]
        picks = {"any donor": int(rng.integers(len(donors))),
                 "nearest by dlib": int(np.linalg.norm(dlib_donors - protected, axis=1).argmin()),
                 "farthest by identity": int(donor_candidates(unit, vectors, None, 1)[0]),
                 "8 farthest by identity": int(donor_candidates(unit, vectors, None, 8)[rng.integers(8)]),
                 "8 farthest by identity, same apparent sex":
                     int(donor_candidates(unit, vectors, sex, 8)[rng.integers(8)]),
                 "8 farthest by identity, then those of its apparent sex":
                     int(rng.choice(_farthest_then_sex(unit, vectors, sex, 8)))}
        for rule, k in picks.items():
            mask = judge.read(compose(face, donors[k]))
            distance[rule].append(float(np.linalg.norm(mask.descriptor - protected)))
            sex_agrees[rule].append(bool(sex["donor_male"][k]) == (labels[path.name] == "male"))
    n = len(distance[rules[0]])
    print(f"{n} synthetic validation faces, judged by dlib")
    for rule in rules:
        d = np.array(distance[rule])
        print(f"  {rule:56s} same person {np.mean(d < 0.6):6.1%}  mean distance {d.mean():.3f}  "
              f"donor's apparent sex = face's label {np.mean(sex_agrees[rule]):6.1%}")


if __name__ == "__main__":
    main()
