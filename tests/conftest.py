import numpy as np
import pytest

from symkeras import config


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test starts from the default settings and a fresh backend session."""
    import symkeras.backend as K

    saved = (config.floatx(), config.epsilon(), config.image_data_format())
    K.clear_session()
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])


@pytest.fixture
def rng():
    return np.random.default_rng(0)
