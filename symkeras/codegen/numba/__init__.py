"""The Numba CPU backend: per-op kernels registered by op type, a linker emitting one module per graph."""
