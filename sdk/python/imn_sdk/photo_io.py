"""Reading photos as gallery apps hold them and writing masked PNGs, with an error a person can
act on for every input IMN cannot keep bit-exact.

PNG pixels go through the fastest codecs measured on the 12 MP bench photo (README, "PNG
codecs"; ``python scripts/png_codecs.py``): libspng (``pyspng``) decodes an 8-bit RGB(A) PNG in
0.11 s against Pillow's 0.24 s, and fpng (``fpng``) encodes one in 0.07 s against Pillow's
0.45 s at zlib level 1, for the same size. Pillow still opens every file (it validates it and
reads the metadata chunks before the pixels), decodes everything else (JPEG, gray, 16-bit,
interlaced, EXIF-rotated), and writes grayscale; without the two packages it does all of it."""

from __future__ import annotations

import importlib.util
import io
import os
import struct
import tempfile
import warnings
import zlib
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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# IMN_PNG_CODEC=pillow forces Pillow everywhere (to compare, or where the fast codecs misbehave).
FAST_PNG = (os.environ.get("IMN_PNG_CODEC", "fast") != "pillow"
            and importlib.util.find_spec("pyspng") is not None and importlib.util.find_spec("fpng") is not None)
GRAY_MODES = {"1", "L", "LA"}  # come back as grayscale ("L"), with a grayscale Mask


@dataclass
class Photo:
    """An upright 8-bit photo: ``rgb (H, W, 3)`` uint8 and, when it had one, ``alpha (H, W)``.
    ``mode``: ``"L"`` when the source was grayscale (its ``rgb`` has three equal channels), else
    ``"RGB"``."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)   # conversions made on the way in
    text: dict[str, str] = field(default_factory=dict)  # PNG text chunks (IMN metadata)
    format: str = ""
    mode: str = "RGB"
    chunks: dict[bytes, bytes] = field(default_factory=dict)  # PNG private chunks (sealed data)


def _open(source) -> tuple[Image.Image, bytes | None]:
    """The opened image (pixels not decoded yet) and, for a PNG, its bytes (the fast decoder's
    input)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        with open(path, "rb") as f:
            head = f.read(len(PNG_SIGNATURE))
        data = path.read_bytes() if head == PNG_SIGNATURE else None
        opener = io.BytesIO(data) if data is not None else path
    else:
        data = bytes(source)
        opener = io.BytesIO(data)
        data = data if data[:len(PNG_SIGNATURE)] == PNG_SIGNATURE else None
    if data is not None and _text_chunks_named(data, b"imn") > 1:
        # Pillow keeps the last, the Kotlin and Swift readers the first: refuse, so no two SDKs
        # can read one file as two different photos.
        raise InvalidImage("the file has two imn metadata chunks")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(opener)
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(f"more than {MAX_PIXELS / 1e6:.0f} megapixels ({error})") from None
    except UnidentifiedImageError:
        raise InvalidImage("not an image IMN can read (PNG, JPEG, TIFF, WebP, ...)") from None
    except (ValueError, SyntaxError, OSError) as error:
        # Pillow reads a PNG's text chunks when it opens it and stops at 1 MB decompressed per
        # chunk and 64 MB in all (a few KB of crafted zlib can claim more): "Decompressed data
        # too large", "Too much memory used in text chunks".
        raise InvalidImage(f"the file is damaged, or its metadata is larger than an image's "
                           f"may be ({error})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{width}x{height} is {width * height / 1e6:.0f} MP; IMN "
                            f"protects photos up to {MAX_PIXELS / 1e6:.0f} MP")
    return image, data


def _text_chunks_named(data: bytes, keyword: bytes) -> int:
    """How many tEXt, zTXt and iTXt chunks of the PNG ``data`` have ``keyword``."""
    at, count = len(PNG_SIGNATURE), 0
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind in (b"tEXt", b"zTXt", b"iTXt") and data[at + 8:at + 8 + len(keyword) + 1] == keyword + b"\0":
            count += 1
        elif kind == b"IEND":
            break
        at += 12 + length
    return count


def _chunks_before_pixels(data: bytes) -> bool:
    """Whether every metadata chunk (text, EXIF, private) of the PNG ``data`` comes before its
    first IDAT, where Pillow reads them when it opens the file; a chunk after the pixels is read
    only by a full decode (and a crafted or damaged layout goes to Pillow too)."""
    at, seen_pixels = len(PNG_SIGNATURE), False
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            seen_pixels = True
        elif kind == b"IEND":
            return True
        elif seen_pixels and (kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf") or kind[1:2].islower()):
            return False
        at += 12 + length
    return False


def _fast_pixels(image: Image.Image, data: bytes | None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(rgb, alpha)`` of an upright, non-interlaced 8-bit RGB or RGBA PNG by libspng; None for
    anything else (Pillow decodes it)."""
    # EXIF of any kind goes to Pillow, which rotates by it (and getexif() here would decode).
    if (data is None or not FAST_PNG or image.format != "PNG" or image.mode not in ("RGB", "RGBA") or _high_bit_depth(image)
            or image.info.get("interlace") or not _chunks_before_pixels(data) or "exif" in image.info):
        return None
    import pyspng

    try:
        pixels = pyspng.load(data, format=image.mode)
    except Exception as error:  # libspng's own reason: truncated, bad CRC, ...
        raise InvalidImage(f"the file is damaged or truncated ({error})") from None
    if pixels.shape[:2] != (image.size[1], image.size[0]):
        raise InvalidImage("the file is damaged: its pixels do not match its header")
    if image.mode == "RGBA":
        return np.ascontiguousarray(pixels[..., :3]), np.ascontiguousarray(pixels[..., 3])
    return pixels, None


def _high_bit_depth(image: Image.Image) -> bool:
    """More than 8 bits per sample. Pillow opens a 16-bit RGB(A) PNG or TIFF as an 8-bit "RGB"
    image and drops the low byte when it decodes, so the mode alone cannot tell: the raw mode of
    the undecoded tiles ("RGB;16B") can."""
    if image.mode in HIGH_BIT_MODES:
        return True
    for tile in getattr(image, "tile", None) or ():
        args = tile[3] if len(tile) > 3 else None
        raw = args if isinstance(args, str) else (args[0] if isinstance(args, tuple) and args else "")
        if isinstance(raw, str) and (";16" in raw or ";32" in raw):
            return True
    return False


def read_photo(source) -> Photo:
    """Decode ``source`` (a path or encoded bytes) into an upright 8-bit RGB photo.

    Palette and CMYK images become RGB, grayscale and 1-bit images three equal channels with
    ``mode`` "L" (so they are masked in gray and come back gray), RGBA keeps its alpha (the
    returned ``notes`` say what happened); 16-bit and float images, gray or colour, are refused,
    since IMN writes 8-bit PNG and could not keep their pixels.
    """
    image, data = _open(source)
    fast = _fast_pixels(image, data)
    if fast is not None:
        # Pillow's ``text`` decodes the whole image to look for text after the pixels (0.2 s at
        # 12 MP); _fast_pixels checked there is none, so the chunks Pillow read on opening are all.
        early = getattr(getattr(image, "png", None), "im_text", None)
        text = dict(early) if isinstance(early, dict) else dict(image.text)
        return Photo(fast[0], fast[1], str(source) if not isinstance(source, bytes) else "",
                     ["alpha channel kept as is"] if fast[1] is not None else [],
                     text, "PNG", "RGB", _private_chunks(image))
    high_bit = _high_bit_depth(image)  # before load(): decoding replaces the tiles
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"the file is damaged or truncated ({error})") from None
    text = dict(getattr(image, "text", {}) or {})
    chunks = _private_chunks(image)
    fmt = image.format or ""
    notes = []
    if high_bit:
        raise InvalidImage(f"16-bit and float images ({image.mode}) are not supported: IMN "
                           "writes 8-bit PNG and would lose their low bits; convert the photo to "
                           "8-bit first")
    exif_orientation = image.getexif().get(0x0112, 1)
    if exif_orientation not in (1, None):
        image = ImageOps.exif_transpose(image)
        notes.append(f"rotated upright from EXIF orientation {exif_orientation}")
    alpha = None
    mode = "L" if image.mode in GRAY_MODES else "RGB"
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        notes.append("palette image converted to RGB")
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(image.getchannel("A"))
        image = image.convert("RGB")
        notes.append("alpha channel kept as is")
    elif image.mode != "RGB":
        if mode != "L":
            notes.append(f"{image.mode} image converted to RGB")
        image = image.convert("RGB")
    if mode == "L":
        notes.append("grayscale photo: its Mask is gray and it is recovered as grayscale")
    return Photo(_to_array(image), alpha, str(source) if not isinstance(source, bytes) else "",
                 notes, text, fmt, mode, chunks)


UNIQUE_CHUNKS = {b"imSd"}  # IMN's own: twice, which would be the real one? Others may repeat.


def _private_chunks(image: Image.Image) -> dict[bytes, bytes]:
    """A PNG's private chunks by type (the last of a repeated type; ``UNIQUE_CHUNKS`` twice is
    refused)."""
    chunks: dict[bytes, bytes] = {}
    for entry in getattr(image, "private_chunks", None) or ():
        kind, data = entry[0], entry[1]   # (type, data[, after_idat])
        if kind in chunks and kind in UNIQUE_CHUNKS:
            raise InvalidImage(f"the file has two {kind.decode('latin-1')} chunks")
        chunks[kind] = data
    return chunks


def _to_array(image: Image.Image, rows: int = 256) -> np.ndarray:
    """``(H, W, 3)`` uint8 pixels of an RGB image, copied a band of rows at a time: ``np.array``
    would pass through a whole-photo ``bytes`` copy first (36 MB more peak at 12 MP)."""
    width, height = image.size
    out = np.empty((height, width, 3), np.uint8)
    for top in range(0, height, rows):
        out[top:top + rows] = np.asarray(image.crop((0, top, width, min(height, top + rows))))
    return out


def check_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """``path`` as a masked or recovered photo's name: a ``.png`` that does not exist yet (unless
    ``overwrite``). Called before any work, and again when writing."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InvalidImage(f"{path}: masked photos are written as PNG only (JPEG would destroy "
                           "the hidden face); use a .png name")
    if path.exists() and not overwrite:
        raise OutputExists(f"{path} exists", override="overwrite", purpose="replace it")
    return path


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` uint8 -> ``(...)`` uint8 luma, exactly as Pillow's ``convert("L")`` (ITU-R 601-2
    in 16-bit fixed point): three equal channels give back their value."""
    weights = np.array([19595, 38470, 7471], np.uint32)
    return ((rgb.astype(np.uint32) @ weights + 0x8000) >> 16).astype(np.uint8)


def write_png(path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None,
              text: dict[str, str], overwrite: bool = False, mode: str = "RGB",
              chunks: dict[bytes, bytes] | None = None) -> Path:
    """Write an 8-bit PNG with ``text`` as compressed iTXt chunks and ``chunks`` (private chunk
    type -> data) after them, before the pixels, atomically (temp file in the same folder, then
    rename); never over an existing file unless ``overwrite``. ``mode`` "L" writes grayscale
    (``to_gray``), for a recovered grayscale photo."""
    path = check_writable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if FAST_PNG and mode != "L":
                f.writelines(_fast_png_parts(rgb, alpha, text, chunks or {}))  # no joined copy
            else:
                _save_pillow(f, rgb, alpha, text, chunks or {}, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _save_pillow(f, rgb: np.ndarray, alpha: np.ndarray | None, text: dict[str, str],
                 chunks: dict[bytes, bytes], mode: str) -> None:
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value, zip=True)
    for kind, data in chunks.items():
        info.add(kind, data)
    image = Image.fromarray(to_gray(rgb), "L") if mode == "L" else Image.fromarray(rgb, "RGB")
    if alpha is not None:
        image.putalpha(Image.fromarray(alpha, "L"))
    image.save(f, format="PNG", pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png_fast(rgb: np.ndarray, alpha: np.ndarray | None, text: dict[str, str],
                    chunks: dict[bytes, bytes]) -> bytes:
    """fpng's PNG of ``rgb (H, W, 3)`` (plus ``alpha``), with ``text`` as compressed iTXt chunks
    and the private ``chunks`` spliced in after IHDR, as Pillow would place them: before the
    pixels, where every reader (Pillow's open, the Kotlin and Swift chunk walkers) finds them."""
    return b"".join(_fast_png_parts(rgb, alpha, text, chunks))


def _fast_png_parts(rgb: np.ndarray, alpha: np.ndarray | None, text: dict[str, str],
                    chunks: dict[bytes, bytes]) -> list:
    import fpng

    pixels = np.ascontiguousarray(rgb if alpha is None else np.dstack([rgb, alpha]))
    png = memoryview(fpng.from_ndarray(pixels))
    (length,) = struct.unpack(">I", png[8:12])
    after_header = len(PNG_SIGNATURE) + 12 + length   # IHDR is always the first chunk
    extra = [_chunk(b"iTXt", key.encode("latin-1") + b"\0\x01\x00\0\0" + zlib.compress(value.encode("utf-8")))
             for key, value in text.items()]
    extra += [_chunk(kind, data) for kind, data in chunks.items()]
    return [png[:after_header], *extra, png[after_header:]]
