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
