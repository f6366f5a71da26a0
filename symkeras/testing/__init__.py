"""Tools for testing ops and backends: finite-difference gradient checks against the reference evaluator."""

from symkeras.testing.gradcheck import GradientMismatch, verify_grad  # noqa: F401
