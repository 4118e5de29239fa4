"""What one offline guess at a sealed photo's passphrase costs: the Argon2id derivation of
sdk/spec/photo.md §7.1 (64 MiB, 3 passes, 1 lane) then HKDF, timed on this machine (one core,
median of --repeats), with the peak memory it adds. README, "Threat model".

    python scripts/passphrase_cost.py --repeats 7
"""

from __future__ import annotations

import argparse
import resource
import secrets
import statistics
import time

from imn_sdk import Secret
from imn_sdk.seal import ARGON2ID, derive_keys, kdf_entry, key_material


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    secret = Secret(passphrase="violet tram under seven moons")
    kdf = kdf_entry(secret)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for _ in range(args.repeats):
        salt = secrets.token_bytes(16)
        start = time.perf_counter()
        derive_keys(key_material(secret, salt, kdf), salt)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_guess = statistics.median(times)
    print(f"Argon2id {ARGON2ID} + HKDF: {per_guess:.3f} s per guess (median of {args.repeats}, "
          f"min {min(times):.3f}), {1 / per_guess:.1f} guesses/s per core; peak memory "
          f"{peak:.0f} MB ({peak - before:+.0f} MB)")


if __name__ == "__main__":
    main()
