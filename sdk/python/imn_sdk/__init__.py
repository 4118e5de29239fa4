"""IMN's reference gallery SDK: protect and recover whole photos on an exported bundle, with
ONNX Runtime (or LiteRT) and no PyTorch. ``protect(image, bundle, secret=...) -> ProtectedImage``
(sealed) or ``protect(image, bundle, keyless=True)``, ``recover(image, bundle, secret=...) ->
RecoveredImage``; every failure is an ``IMNError``."""

from imn_sdk.bundle import Bundle
from imn_sdk.keys import KeyRequired, Secret, WrongKey, generate_key, read_key_file, write_key_file
from imn_sdk.errors import (AlreadyProtected, BundleMismatch, IMNError, ImageModified, ImageTooLarge,
                            ImageTooSmall, InvalidImage, NoFaceFound, NotProtected, OutputExists)
from imn_sdk.pipeline import ProtectedImage, RecoveredImage, protect, recover
from imn_sdk.seal import WeakPassphrase

__all__ = ["Bundle", "protect", "recover", "ProtectedImage", "RecoveredImage", "IMNError",
           "InvalidImage", "ImageTooSmall", "ImageTooLarge", "NoFaceFound", "NotProtected", "AlreadyProtected",
           "ImageModified", "BundleMismatch", "OutputExists", "Secret", "KeyRequired", "WrongKey",
           "WeakPassphrase", "generate_key", "read_key_file", "write_key_file"]
