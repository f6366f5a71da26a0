import ctypes.util
import os

import numpy as np
import pytest

from symkeras import config

# The CUDA backend's tests run on a GPU where there is a driver, else on Numba's CUDA simulator (read when
# numba.cuda is first imported, so it is set here, before any test imports it)
if "NUMBA_ENABLE_CUDASIM" not in os.environ and ctypes.util.find_library("cuda") is None:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test starts from the default settings and a fresh backend session."""
    import symkeras.backend as K

    saved = (config.floatx(), config.epsilon(), config.image_data_format(), config.cpu_backend(), config.device())
    K.clear_session()
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])
    config.set_backend(saved[3])
    config.set_device(saved[4])


#: every backend-parametrized test runs on each of these (cuda on the simulator where there is no GPU)
BACKENDS = ("reference", "numba", "cuda")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request):
    """Run the test on one backend (tests using it are parametrized over all of them); on cuda where it
    cannot run (no numba-cuda, or no driver and the simulator off) the test is skipped with the reason."""
    if request.param == "cuda":
        from symkeras.codegen.cuda import device

        if not device.available():
            pytest.skip(f"CUDA unavailable: {device.reason()}")
    config.set_backend(request.param)
    yield request.param


@pytest.fixture(scope="session", autouse=True)
def _shared_kernel_cache(request):
    """One kernel cache for the whole run, kept between runs in .kernel-cache (SYMKERAS_CACHE_DIR wins)."""
    os.environ.setdefault("SYMKERAS_CACHE_DIR", str(request.config.rootpath / ".kernel-cache"))
    # a kernel-argument type the linker mispredicts is an error in tests, not a quiet fallback
    os.environ["SYMKERAS_STRICT_KERNEL_TYPES"] = "1"
    # a first call waits for its compiled step, so that each test checks compiled code (the reference
    # evaluator running calls while the compile goes on is tested in tests/codegen/test_background_compile.py)
    os.environ.setdefault("SYMKERAS_BACKGROUND_COMPILE", "0")
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
