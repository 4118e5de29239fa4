"""Command-line entry points: ``imn`` (imn.py) and ``imn-export`` (export.py)."""

import logging
import os
import warnings


def quiet_dependencies(verbose: bool) -> None:
    """Show a person only what concerns them. Without ``verbose``, the warnings and log lines
    of dependencies (torch's TracerWarnings, coremltools' "Failed to load _MLModelProxy" on Linux,
    ONNX Runtime's quantization advice, LiteRT's native INFO lines) are hidden; IMN's own messages
    are printed, not logged, and stay. ``verbose`` sets ``IMN_VERBOSE=1`` for the SDK's runtimes."""
    if verbose:
        os.environ["IMN_VERBOSE"] = "1"
        return
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)


def error_message(error: Exception) -> str:
    """An error as a person at the command line should read it: options named as flags."""
    from imn_sdk import IMNError

    return error.cli_message() if isinstance(error, IMNError) else str(error)
