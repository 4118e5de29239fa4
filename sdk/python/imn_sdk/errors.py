"""Every failure a gallery app must show a user, one class each, all under ``IMNError``."""


class IMNError(Exception):
    """Base class: the message is written for the person using the app or the CLI."""


class InvalidImage(IMNError):
    """Not an image, truncated, or a pixel format IMN cannot keep bit-exact."""


class ImageTooSmall(IMNError):
    """Smaller than one hiding tile."""


class ImageTooLarge(IMNError):
    """More pixels than the stated limit."""


class NoFaceFound(IMNError):
    """Nothing to protect (or every face was too small)."""


class NotProtected(IMNError):
    """No IMN metadata: never protected, or the metadata was stripped."""


class ImageModified(IMNError):
    """The masked pixels no longer match the digest taken when they were written."""


class BundleMismatch(IMNError):
    """The bundle cannot reveal what another bundle hid."""


class OutputExists(IMNError):
    """Refusing to write over an existing file without ``overwrite``."""
