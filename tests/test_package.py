"""``import symkeras as keras`` works where ``import keras`` did."""

import subprocess
import sys

KERAS2_PACKAGES = ("activations", "backend", "callbacks", "constraints", "initializers", "layers", "losses",
                   "metrics", "models", "optimizers", "regularizers", "utils")


def _fresh_interpreter(code: str) -> str:
    """What ``code`` prints in a new interpreter (nothing imported before it)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_bare_import_exposes_keras2_packages():
    printed = _fresh_interpreter(
        "import symkeras as keras\n"
        f"missing = [p for p in {KERAS2_PACKAGES!r} if not hasattr(keras, p)]\n"
        "assert not missing, missing\n"
        f"assert set({KERAS2_PACKAGES!r}) <= set(dir(keras))\n"
        "x = keras.layers.Input(shape=(3,))\n"
        "model = keras.models.Model(x, keras.layers.Dense(2)(x))\n"
        "f = keras.backend.function([x], [model.output])\n"
        "assert keras.Sequential is keras.models.Sequential and keras.Model is keras.models.Model\n"
        "print(f([[[1.0, 2.0, 3.0]]])[0].shape)\n")
    assert printed == "(1, 2)"


def test_import_and_model_building_load_no_compiler():
    # Numba (and the SciPy BLAS it loads) is imported when a function is first compiled, not before
    printed = _fresh_interpreter(
        "import sys\n"
        "import symkeras as keras\n"
        "model = keras.models.Sequential([keras.layers.Dense(4, input_dim=3), keras.layers.Dense(1)])\n"
        "model.compile('sgd', 'mse')\n"
        "print(sorted(m for m in ('numba', 'scipy', 'networkx', 'h5py') if m in sys.modules))\n")
    assert printed == "[]"
