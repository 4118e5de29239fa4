"""The donor bank that ships in every bundle: faces of nobody sampled from the PCA prior, each
with its own face outline as alpha, judged by dlib before it is kept.

A donor is kept when dlib finds exactly one face in it, its descriptor is at least
``min_distance_to_training`` from every training face it was sampled from (it shows none of
them), and it is at least ``min_distance_between`` from the donors already kept (the bank spans
many identities rather than one average face). With ``balance_sex``, half the donors read as
male and half as female to the identity encoder's linear read of apparent sex.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from tqdm.auto import tqdm

from imn_export.donors.prior import FacePrior, sample_coefficients
from imn_sdk.bundle import file_sha256
from imn_sdk.masks import box_blur

BANK_IMAGE, BANK_INFO = "donors-{size}.png", "donors.json"
IDENTITY_READ = "identity_read"   # donors.json: the donors' identity vectors, where not read from the pixels
FORMAT = "imn-donors/1"
LAYOUT = ("RGB, two rows of K tiles of the box's size: row 0 the faces, row 1 their outlines "
          "(gray, R = G = B); donor k is columns k*w .. (k+1)*w, w = x1 - x0")
# dlib 68-point indices: the jaw (0..16) and the brows (17..26), lifted by this share of the
# eye-to-mouth distance so the forehead above the brows belongs to the face.
_JAW, _BROWS = list(range(17)), list(range(26, 16, -1))
FOREHEAD_LIFT = 0.55
OUTLINE_FEATHER = 0.025    # Gaussian blur of the outline, share of the side
# The blend fades a donor out across its outline, so whatever the sample has just outside its
# face (hair, background, the shading of its jaw) would show as a dark rim inside the protected
# face. The donor's own skin is spread over that rim instead: pixels less than RIM_INSET inside
# the outline fade into a normalised box blur (radius RIM_SPREAD, three passes) of the face within it.
RIM_INSET = 0.03           # share of the side
RIM_SPREAD = 0.04          # box radius of the spread (three passes), share of the side


@dataclass
class BankSettings:
    count: int = 64
    candidates: int = 400
    temperature: float = 0.7
    seed: int = 1
    min_distance_to_training: float = 0.5
    min_distance_between: float = 0.45
    fill_rim: bool = False          # the shipped bank has it (models/imn-donors.md, "Rim and edges")


@dataclass
class Donor:
    rgba: np.ndarray                # (S, S, 4) uint8: the face, and its outline as alpha
    descriptor: np.ndarray          # (128,) dlib
    nearest_training: float         # dlib distance to the closest training face
    male: bool | None = None        # apparent sex, where the bank was balanced by it
    identity: list[float] | None = None   # unit identity vector read before the rim was filled


def face_outline(points68: np.ndarray, size: int) -> np.ndarray:
    """``(S, S)`` uint8 alpha: the jaw and the lifted brows of dlib's 68 ``points68``, feathered."""
    eyes = (points68[36:42].mean(0) + points68[42:48].mean(0)) / 2
    mouth = points68[48:68].mean(0)
    lift = FOREHEAD_LIFT * float(np.linalg.norm(mouth - eyes))
    brows = points68[_BROWS] - np.array([0.0, lift])
    polygon = [tuple(p) for p in np.concatenate([points68[_JAW], brows])]
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).polygon(polygon, fill=255)
    return np.asarray(canvas.filter(ImageFilter.GaussianBlur(OUTLINE_FEATHER * size)))


def fill_rim(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb (S, S, 3)`` uint8 with everything near and outside its ``alpha (S, S)`` uint8 outline
    replaced by its own skin colour spread outwards (a normalised box blur of the face inside)."""
    size = rgb.shape[0]
    inset = round(RIM_INSET * size)
    inside = np.asarray(Image.fromarray(alpha).filter(ImageFilter.MinFilter(2 * inset + 1)), np.float32) / 255
    spread = round(RIM_SPREAD * size)
    face = rgb.astype(np.float32)
    num, den = face * inside[..., None], inside
    for _ in range(3):
        num = np.stack([box_blur(num[..., c], spread) for c in range(3)], -1)
        den = box_blur(den, spread)
    skin = num / np.maximum(den, np.float32(1e-6))[..., None]
    w = inside[..., None]
    return np.clip(np.rint(w * face + (1 - w) * skin), 0, 255).astype(np.uint8)


def build_bank(prior: FacePrior, judge, training_descriptors: np.ndarray,
               settings: BankSettings = BankSettings(), progress: bool = True,
               apparent_male: Callable[[np.ndarray], bool] | None = None,
               read_identity: Callable[[np.ndarray], list[float]] | None = None) -> tuple[list[Donor], dict]:
    """Sample ``settings.candidates`` faces from ``prior`` and keep up to ``settings.count``
    donors (``judge``: a ``DlibJudge``). With ``apparent_male`` (a face ``(S, S, 3)`` -> bool),
    half the donors are of each apparent sex: the prior, fitted on a set with more men, samples
    about three men for each woman, and a face of either sex then finds far donors of its own
    (README, "Donor choice"). With ``settings.fill_rim``, ``read_identity`` (a face -> its unit
    identity vector) reads each kept donor before its rim is filled. Returns the donors and why
    candidates were dropped."""
    if settings.fill_rim and read_identity is None:
        raise ValueError("fill_rim needs read_identity: the encoder must read each donor before its rim is filled")
    faces = prior.decode(sample_coefficients(prior, settings.candidates, settings.seed, settings.temperature))
    known = training_descriptors[np.isfinite(training_descriptors).all(1)]
    kept: list[Donor] = []
    dropped = {"not_one_face": 0, "near_a_training_face": 0, "near_a_kept_donor": 0}
    quota = {True: settings.count // 2, False: settings.count - settings.count // 2}
    if apparent_male is not None:
        dropped["apparent_sex_full"] = 0
    for rgb in tqdm(faces, desc="donors", unit="face", disable=not progress):
        if len(kept) == settings.count:
            break
        male = apparent_male(rgb) if apparent_male is not None else None
        if male is not None and sum(d.male == male for d in kept) >= quota[male]:
            dropped["apparent_sex_full"] += 1
            continue
        boxes = list(judge.detector(rgb, 1))
        if len(boxes) != 1:
            dropped["not_one_face"] += 1
            continue
        shape = judge.landmarker(rgb, boxes[0])
        descriptor = np.asarray(judge.recognizer.compute_face_descriptor(rgb, shape), np.float32)
        nearest = float(np.linalg.norm(known - descriptor, axis=1).min())
        if nearest < settings.min_distance_to_training:
            dropped["near_a_training_face"] += 1
            continue
        if kept and min(float(np.linalg.norm(d.descriptor - descriptor)) for d in kept) < settings.min_distance_between:
            dropped["near_a_kept_donor"] += 1
            continue
        points = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
        alpha = face_outline(points, prior.size)
        identity = None
        if settings.fill_rim:
            # Judged, sexed and read by the identity encoder as sampled, like any face: a filled
            # rim reads as short hair to the encoder (56 of 64 donors read male when read after
            # the fill), and the fill changes only pixels the blend fades out.
            identity = read_identity(rgb)
            rgb = fill_rim(rgb, alpha)
        kept.append(Donor(np.dstack([rgb, alpha]), descriptor, nearest, male, identity))
    return kept, dropped


def write_bank(donors: list[Donor], out: Path, size: int, box: tuple[int, int, int, int],
               provenance: dict) -> tuple[Path, Path]:
    """The donors' ``box`` crops in one RGB PNG of two rows of K tiles: the faces, then their
    outlines as gray (no alpha channel: every platform decodes it to the same pixels, while
    Core Graphics and Android premultiply alpha). And the JSON that describes it."""
    x0, y0, x1, y1 = box
    faces = np.concatenate([d.rgba[y0:y1, x0:x1, :3] for d in donors], axis=1)
    outlines = np.concatenate([np.repeat(d.rgba[y0:y1, x0:x1, 3:], 3, axis=2) for d in donors], axis=1)
    out.mkdir(parents=True, exist_ok=True)
    image = out / BANK_IMAGE.format(size=size)
    Image.fromarray(np.concatenate([faces, outlines], axis=0), "RGB").save(image, format="PNG", optimize=True)
    info = {"format": FORMAT, "image": image.name, "count": len(donors), "size": size,
            "box": [x0, y0, x1, y1], "layout": LAYOUT,
            "nearest_training_distance": [round(d.nearest_training, 4) for d in donors],
            **provenance}
    path = out / BANK_INFO
    path.write_text(json.dumps(info, indent=2))
    return image, path


def manifest_entry(folder: Path) -> dict:
    """The bundle manifest's ``donors`` entry for the bank in ``folder`` (sdk/spec/bundle.md)."""

    info = json.loads((folder / BANK_INFO).read_text())
    entry = {"file": info["image"], "sha256": file_sha256(folder / info["image"]), "format": info["format"],
             "count": info["count"], "size": info["size"], "box": info["box"], "layout": info["layout"]}
    for key in ("sex", IDENTITY_READ):
        if key in info:
            entry[key] = info[key]
    return entry


def read_bank(folder: Path) -> np.ndarray:
    """``(K, S, S, 4)`` uint8 donors of the bank in ``folder``, as a bundle's SDK reads them."""
    from imn_sdk.bundle import load_donors

    entry = manifest_entry(folder)
    return load_donors(folder, entry, entry["size"])


def resize_bank(folder: Path, size: int, out: Path) -> Path:
    """The bank in ``folder`` resampled (Lanczos) for ``size``-px crops, written into ``out`` as
    ``donors-{size}.png`` with its ``donors.json``; returns the JSON's path."""
    from imn_sdk.masks import region_box

    donors = read_bank(folder)
    info = json.loads((folder / BANK_INFO).read_text())
    resized = np.stack([np.asarray(Image.fromarray(d, "RGBA").resize((size, size), Image.LANCZOS))
                        for d in donors])
    kept = [Donor(r, np.zeros(128, np.float32), t) for r, t in zip(resized, info["nearest_training_distance"])]
    provenance = {k: v for k, v in info.items() if k not in ("format", "image", "count", "size", "box",
                                                             "layout", "nearest_training_distance")}
    provenance["resampled_from"] = f"{info['image']} ({info['size']} px, Lanczos)"
    write_bank(kept, out, size, region_box(size), provenance)
    return out / BANK_INFO


def settings_dict(settings: BankSettings) -> dict:
    return asdict(settings)


def make_donors(data: str | Path, out: str | Path, settings: BankSettings = BankSettings(),
                components: int = 600, size: int = 256, progress: bool = True,
                balance_sex: bool = False) -> tuple[Path, Path, dict]:
    """Fit the PCA prior on the training split of ``data`` (aligned faces with ``dlib.npz``) and
    write the donor bank into ``out`` (``balance_sex``: half of each apparent sex, which needs
    ``labels.csv``). Returns the image, the JSON and the drop counts."""
    import platform

    from imn_export.donors.prior import fit_prior, load_flat
    from imn_export.identity.teacher import DlibJudge
    from imn_export.io import list_images
    from imn_export.data import split_train_val
    from imn_sdk.masks import region_box

    data = Path(data)
    if not (data / "dlib.npz").is_file():
        raise FileNotFoundError(f"{data / 'dlib.npz'} not found: the bank checks each donor against "
                                "dlib's descriptors of the training faces")
    train, _ = split_train_val(list_images(data))
    prior, total = fit_prior(load_flat(train, size, progress), components, size)
    judge = DlibJudge()
    stored = np.load(data / "dlib.npz")
    names = {Path(p).name for p in train}
    training = stored["descriptor"][[Path(str(f)).name in names for f in stored["files"]]]
    sex = apparent_male = read_identity = None
    if (data / "labels.csv").is_file() or settings.fill_rim:
        from imn_export.donors.choice import (encoder_fingerprint, fit_sex_classifier, identity_graph,
                                              identity_vectors)
        from imn_export.weights import load_identity_encoder
        from imn_sdk.masks import apparent_male as classify
        encoder = load_identity_encoder()
        graph, (x0, y0, x1, y1) = identity_graph(encoder), region_box(size)

        def as_stored(rgb: np.ndarray) -> np.ndarray:
            stored = np.zeros_like(rgb)   # as the bank stores the face: zero outside its box
            stored[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
            return stored

        def read_identity(rgb: np.ndarray) -> list[float]:
            return np.round(identity_vectors(graph, [as_stored(rgb)])[0], 6).tolist()

        if (data / "labels.csv").is_file():
            sex = fit_sex_classifier(data, encoder, progress=progress)

            def apparent_male(rgb: np.ndarray) -> bool:
                return bool(classify(sex, identity_vectors(graph, [as_stored(rgb)]))[0])
    if balance_sex and sex is None:
        raise FileNotFoundError(f"--balance-sex needs {data / 'labels.csv'} (apparent sex labels)")
    donors, dropped = build_bank(prior, judge, training, settings, progress,
                                 apparent_male if balance_sex else None, read_identity)
    if len(donors) < settings.count:
        raise RuntimeError(f"only {len(donors)} of {settings.count} donors passed the checks "
                           f"({dropped}); sample more --candidates")
    provenance = {"prior": {"kind": "pca", "components": components, "size": size,
                            "explained_variance": round(prior.explained(total), 4),
                            "training_faces": len(train), "data": data.name},
                  "settings": {**settings_dict(settings), "balance_sex": balance_sex,
                               "outline": {"feather": OUTLINE_FEATHER,
                                           **({"rim_inset": RIM_INSET, "rim_spread": RIM_SPREAD}
                                              if settings.fill_rim else {})}},
                  "dropped": dropped,
                  "judge": judge.weights_note, "python": platform.python_version()}
    if sex is not None:
        provenance["sex"] = sex
    if settings.fill_rim:
        provenance[IDENTITY_READ] = {"from": "each donor's face as sampled (zero outside the box), "
                                             "before its rim was filled",
                                     "encoder": encoder_fingerprint(encoder),
                                     "vectors": [d.identity for d in donors]}
    image, info = write_bank(donors, Path(out), size, region_box(size), provenance)
    return image, info, dropped
