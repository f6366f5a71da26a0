"""Turning graphs into runnable functions (reference NumPy evaluator for now)."""

from symkeras.codegen.function import Function  # noqa: F401
