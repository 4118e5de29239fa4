"""Every failure a gallery app must show a user, one class each, all under ``IMNError``."""


class IMNError(Exception):
    """Base class: the message is written for the person using the app or the CLI.

    ``override``: the option that goes past this refusal (``force``, ``overwrite``), named in the
    caller's own words: ``str(error)`` says ``force=True`` to an API caller, ``cli_message()``
    says ``--force`` to a person at the command line."""

    def __init__(self, message: str, override: str | None = None, purpose: str = ""):
        self.message, self.override, self.purpose = message, override, purpose
        super().__init__(self._with(f"{override}=True"))

    def _with(self, option: str) -> str:
        return f"{self.message}; pass {option} to {self.purpose}" if self.override else self.message

    def cli_message(self) -> str:
        return self._with(f"--{self.override.replace('_', '-')}" if self.override else "")


class InvalidImage(IMNError):
    """Not an image, truncated, or a pixel format IMN cannot keep bit-exact."""


class ImageTooSmall(IMNError):
    """Smaller than one hiding tile."""


class ImageTooLarge(IMNError):
    """More pixels than the stated limit."""


class NoFaceFound(IMNError):
    """Nothing to protect (or every face was too small)."""


class AlreadyProtected(IMNError):
    """The photo already carries an IMN record: protecting it again would lose the first one."""


class NotProtected(IMNError):
    """No IMN metadata: never protected, or the metadata was stripped."""


class ImageModified(IMNError):
    """The masked pixels no longer match the digest taken when they were written."""


class BundleMismatch(IMNError):
    """The bundle cannot reveal what another bundle hid."""


class OutputExists(IMNError):
    """Refusing to write over an existing file without ``overwrite``."""
