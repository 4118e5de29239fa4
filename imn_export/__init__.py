"""IMN: reversible face privacy (Invertible Mask Network) tooling."""

__version__ = "0.1.0"
