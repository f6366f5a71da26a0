"""Functions compiled with other settings than Numba's defaults (codegen/numba/compiling.py)."""

from __future__ import annotations

import numba
import numpy as np

from symkeras.codegen.numba.compiling import without_aliases


def _saxpy(a, x, y):
    for i in range(x.shape[0]):
        y[i] = a * x[i] + y[i]
    return y


def _ir(dispatcher) -> str:
    x, y = np.ones(8, np.float32), np.zeros(8, np.float32)
    dispatcher(np.float32(2.0), x, y)
    np.testing.assert_array_equal(y, 2 * x)
    return next(iter(dispatcher.inspect_llvm().values()))


def test_without_aliases_marks_the_array_arguments_noalias():
    def arguments(ir: str) -> str:
        return next(line for line in ir.splitlines() if line.startswith("define") and "_saxpy" in line)

    assert "noalias" in arguments(_ir(without_aliases(numba.njit(_saxpy)))).split("excinfo", 1)[1]
    assert "noalias" not in arguments(_ir(numba.njit(_saxpy))).split("excinfo", 1)[1]


def test_optimization_level_holds_for_the_block_alone_and_yields_to_numba_opt(monkeypatch):
    from numba.core import config

    from symkeras.codegen.numba.compiling import OPT_LEVEL, optimization_level

    monkeypatch.delenv("NUMBA_OPT", raising=False)
    before = config.OPT
    with optimization_level():
        assert config.OPT == OPT_LEVEL == 2
        compiled = numba.njit(_saxpy)
        compiled(np.float32(1.0), np.ones(4, np.float32), np.zeros(4, np.float32))  # a compile at that level
    assert config.OPT is before
    try:
        with optimization_level():
            raise KeyError("inside")
    except KeyError:
        pass
    assert config.OPT is before  # restored when the block raises too
    monkeypatch.setenv("NUMBA_OPT", "1")
    with optimization_level():
        assert config.OPT is before  # the user's NUMBA_OPT (read by Numba at import) stands
