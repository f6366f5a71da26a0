"""SciPy's BLAS and LAPACK modules for Numba, without running all of ``scipy.linalg`` first.

The first time Numba's CPU target loads (symkeras's first compile or first kernel loaded from the cache),
its NumPy support imports ``scipy.linalg.cython_blas`` and ``cython_lapack``, whose functions its BLAS
calls reach.  Importing a submodule runs its package's ``__init__`` first: ``scipy.linalg`` imports SciPy's
array-API layer, which imports NumPy's f2py, testing and masked-array packages, ~200 modules in all: 0.09
of the 0.64 s a warm B3 start took, in every process that trains.

The two modules are extension modules of their own (Cython's C-API tables of the BLAS and LAPACK
routines).  ``preload`` loads them from their files, registers them under their names, and registers
``scipy.linalg`` itself as a lazy module (importlib's ``LazyLoader``): its ``__init__`` runs the first
time anything reads from it, so a program that imports ``scipy.linalg`` gets the whole package, these
two submodules among its attributes.  Nothing is done when ``scipy.linalg`` is imported already (the
program or a library loaded it), when ``SYMKERAS_LAZY_SCIPY_LINALG=0``, or when SciPy is missing.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

PACKAGE = "scipy.linalg"
#: loaded in this order: cython_lapack's initialization imports cython_blas
MODULES = ("cython_blas", "cython_lapack")


def preload() -> bool:
    """Register SciPy's ``cython_blas`` and ``cython_lapack`` and a lazy ``scipy.linalg``.

    Returns:
        Whether they were registered now (False: already imported, turned off, or SciPy missing).
    """
    if PACKAGE in sys.modules or os.environ.get("SYMKERAS_LAZY_SCIPY_LINALG", "1") == "0":
        return False
    try:
        import scipy
    except ImportError:
        return False
    spec = importlib.machinery.PathFinder.find_spec(PACKAGE, scipy.__path__)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return False
    found = [importlib.machinery.PathFinder.find_spec(f"{PACKAGE}.{name}", spec.submodule_search_locations)
             for name in MODULES]
    if any(s is None or not isinstance(s.loader, importlib.machinery.ExtensionFileLoader) for s in found):
        return False
    spec.loader = importlib.util.LazyLoader(spec.loader)
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)  # (lazy: runs the package's __init__ at the first attribute read)
    loaded = []
    try:
        for name, sub_spec in zip(MODULES, found):
            module = importlib.util.module_from_spec(sub_spec)
            sys.modules[sub_spec.name] = module
            loaded.append(sub_spec.name)
            sub_spec.loader.exec_module(module)
            setattr(package, name, module)  # (a write: the package stays lazy)
    except Exception:  # noqa: BLE001  an unexpected SciPy: leave the ordinary import to run later
        for name in [PACKAGE, *loaded]:
            sys.modules.pop(name, None)
        return False
    scipy.linalg = package
    return True
