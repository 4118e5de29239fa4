"""``imn keygen``: a 256-bit key file for sealed protect and recover."""

from __future__ import annotations


def cmd_keygen(args) -> int:
    from imn_sdk import generate_key, write_key_file

    path = write_key_file(args.out, generate_key(), overwrite=args.overwrite)
    print(f"wrote {path} (256-bit key, readable by you only). Keep a copy: photos protected "
          "with it cannot be recovered without it.")
    return 0


def add_key_commands(sub) -> None:
    """keygen."""
    p = sub.add_parser("keygen", help="make a 256-bit key file for keyed protect/recover",
                       description="Write a new random 256-bit key (Python's secrets module) to OUT, "
                       "mode 0600. Never replaces an existing key file without --overwrite.")
    p.add_argument("out", help="key file to write, e.g. ~/.imn/key")
    p.add_argument("--overwrite", action="store_true", help="replace an existing key file (photos protected with the old key could not be recovered)")
    p.set_defaults(func=cmd_keygen)
