"""The CUDA backend (``symkeras[cuda]``): optimized graphs run as numba.cuda kernels, weights on the GPU.

Importing this package registers the backend; numba.cuda itself is imported only when a CUDA function
is built (codegen/cuda/device.py), so that machines without a GPU or the extra import symkeras as before.
"""

from symkeras.codegen.backend import register_backend
from symkeras.codegen.cuda.backend import CudaBackend

register_backend(CudaBackend())
