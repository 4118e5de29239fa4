"""Checks that the networks (and later, their exported graphs) behave as promised."""

from imn_export.verify.invertibility import TOLERANCES, InvertibilityCase, verify_invertibility

__all__ = ["TOLERANCES", "InvertibilityCase", "verify_invertibility"]
