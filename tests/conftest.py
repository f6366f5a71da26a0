import numpy as np
import pytest

from symkeras import config


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test starts from the default settings and a fresh backend session."""
    import symkeras.backend as K

    saved = (config.floatx(), config.epsilon(), config.image_data_format(), config.backend())
    K.clear_session()
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])
    config.set_backend(saved[3])


BACKENDS = ("reference", "numba")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request):
    """Run the test on one backend (tests using it are parametrized over all of them)."""
    config.set_backend(request.param)
    yield request.param


@pytest.fixture(scope="session", autouse=True)
def _shared_kernel_cache(request):
    """One kernel cache for the whole run, kept between runs in .kernel-cache (SYMKERAS_CACHE_DIR wins)."""
    import os

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
