"""Turning graphs into runnable functions (the reference NumPy evaluator and the Numba backend)."""

from symkeras.codegen.function import Function  # noqa: F401
