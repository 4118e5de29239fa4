"""Reading photos as gallery apps hold them and writing masked PNGs, with an error a person can
act on for every input IMN cannot keep bit-exact."""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from imn_sdk.errors import ImageTooLarge, InvalidImage, OutputExists

# zlib level 1: on a noisy 12 MP photo Pillow wrote level 6 (its default) in 4.55 s and level 1 in
# 1.46 s, for a 15% larger file (19.0 vs 21.9 MB). Protecting is interactive; files are not.
PNG_COMPRESS_LEVEL = 1

# 100 MP: peak memory through protect and recover is about 200 MB + 7 bytes per pixel (865 MB
# measured at 100 MP, README); hiding works per tile.
MAX_PIXELS = 100_000_000
HIGH_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F", "RGB;16", "RGBA;16"}


@dataclass
class Photo:
    """An upright 8-bit photo: ``rgb (H, W, 3)`` uint8 and, when it had one, ``alpha (H, W)``."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)   # conversions made on the way in
    text: dict[str, str] = field(default_factory=dict)  # PNG text chunks (IMN metadata)
    format: str = ""


def _open(source) -> Image.Image:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        opener = path
    else:
        opener = io.BytesIO(bytes(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(opener)
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(f"{source}: more than {MAX_PIXELS / 1e6:.0f} megapixels ({error})") from None
    except UnidentifiedImageError:
        raise InvalidImage(f"{source}: not an image IMN can read (PNG, JPEG, TIFF, WebP, ...)") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{source}: {width}x{height} is {width * height / 1e6:.0f} MP; IMN "
                            f"protects photos up to {MAX_PIXELS / 1e6:.0f} MP")
    return image


def read_photo(source) -> Photo:
    """Decode ``source`` (a path or encoded bytes) into an upright 8-bit RGB photo.

    Grayscale, palette, CMYK and 1-bit images become RGB and RGBA keeps its alpha (the returned
    ``notes`` say what happened); 16-bit and float images are refused, since IMN writes 8-bit
    PNG and could not keep their pixels.
    """
    image = _open(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"{source}: the file is damaged or truncated ({error})") from None
    text = dict(getattr(image, "text", {}) or {})
    fmt = image.format or ""
    notes = []
    if image.mode in HIGH_BIT_MODES:
        raise InvalidImage(f"{source}: {image.mode} images (16-bit or float) are not supported: "
                           "IMN writes 8-bit PNG; convert the photo to 8-bit first")
    exif_orientation = image.getexif().get(0x0112, 1)
    if exif_orientation not in (1, None):
        image = ImageOps.exif_transpose(image)
        notes.append(f"rotated upright from EXIF orientation {exif_orientation}")
    alpha = None
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        notes.append("palette image converted to RGB")
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(image.getchannel("A"))
        image = image.convert("RGB")
        notes.append("alpha channel kept as is")
    elif image.mode != "RGB":
        notes.append(f"{image.mode} image converted to RGB")
        image = image.convert("RGB")
    return Photo(_to_array(image), alpha, str(source) if not isinstance(source, bytes) else "",
                 notes, text, fmt)


def _to_array(image: Image.Image, rows: int = 256) -> np.ndarray:
    """``(H, W, 3)`` uint8 pixels of an RGB image, copied a band of rows at a time: ``np.array``
    would pass through a whole-photo ``bytes`` copy first (36 MB more peak at 12 MP)."""
    width, height = image.size
    out = np.empty((height, width, 3), np.uint8)
    for top in range(0, height, rows):
        out[top:top + rows] = np.asarray(image.crop((0, top, width, min(height, top + rows))))
    return out


def write_png(path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None,
              text: dict[str, str], overwrite: bool = False) -> Path:
    """Write an 8-bit PNG with ``text`` as compressed iTXt chunks, atomically (temp file in the
    same folder, then rename); never over an existing file unless ``overwrite``."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InvalidImage(f"{path}: masked photos are written as PNG only (JPEG would destroy "
                           "the hidden face); use a .png name")
    if path.exists() and not overwrite:
        raise OutputExists(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value, zip=True)
    image = Image.fromarray(rgb, "RGB")
    if alpha is not None:
        image.putalpha(Image.fromarray(alpha, "L"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG", pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
