"""``imn``: protect and recover photos, keys, what bundles ship, training and evaluation. A router:
each group of commands lives in its own module."""

from __future__ import annotations

import argparse
import sys

from imn_export.cli import error_message, quiet_dependencies
from imn_export.cli.bundles import add_bundle_commands
from imn_export.cli.evaluate import add_evaluate_commands
from imn_export.cli.keys import add_key_commands
from imn_export.cli.photos import add_photo_commands
from imn_export.cli.train import add_train_commands

# Listed in --help in this order, grouped by what people do.
GROUPS = (("photos", add_photo_commands), ("keys", add_key_commands),
          ("bundle contents", add_bundle_commands), ("training", add_train_commands),
          ("evaluation", add_evaluate_commands))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imn", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="IMN reversible face privacy: protect and recover photos with a bundle from "
        "imn-export; train, evaluate and verify the networks behind it.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups = []
    for title, add in GROUPS:
        before = set(sub.choices)
        add(sub)
        groups.append(f"  {title + ':':<17}" + ", ".join(c for c in sub.choices if c not in before))
    parser.epilog = "commands by what they are for:\n" + "\n".join(groups)
    for command in sub.choices.values():
        command.add_argument("--verbose", action="store_true",
                             help="also show the warnings and log lines of dependencies")
    return parser


def main(argv: list[str] | None = None) -> int:
    from imn_sdk.errors import IMNError

    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_dependencies(args.verbose)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, ValueError, TypeError, RuntimeError, IMNError) as error:
        print(f"imn {args.command}: error: {error_message(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"imn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
