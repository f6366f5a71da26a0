"""The CUDA backend behind the backend protocol: ``K.function(..., backend="cuda")``, ``SYMKERAS_DEVICE=cuda``
or ``K.set_device("cuda")``."""

from __future__ import annotations

from symkeras.codegen.backend import Backend
from symkeras.codegen.cuda import device
from symkeras.codegen.cuda.storage import DEVICE


class CudaBackend(Backend):
    """The optimized graph on an NVIDIA GPU through numba.cuda (Numba's CUDA simulator under
    ``NUMBA_ENABLE_CUDASIM=1``): every node a kernel generated from its op, weights kept on the device."""

    name = "cuda"
    storage = DEVICE

    def compile(self, graph, inputs, outputs, updates, name, nan_guard=False, profile=False):
        """See Backend.compile.

        Raises:
            CudaUnavailable: no usable GPU, driver or numba-cuda (the message says which).
            NotImplementedError: an op of the graph has no CUDA kernel yet (the message names it and its
                layer).
        """
        device.cuda()
        from symkeras.codegen.cuda.program import CudaProgram

        return CudaProgram(self, graph, inputs, outputs, updates, name, profile=profile, nan_guard=nan_guard)
