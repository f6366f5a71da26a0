"""Loading a model never runs code stored in the file unless the caller opts in (issue 13, defects 1-2).

A Lambda layer's function is stored as bytecode.  load_model, model_from_json, model_from_config and
layers.deserialize refuse it by default, naming the layer and the opt-ins; with safe mode off, a payload
from another interpreter or with invalid bytecode is a ValueError, never a crash.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import config as settings
from symkeras import layers
from symkeras.layers import Dense, Input, Lambda
from symkeras.models import Model, Sequential, load_model, model_from_config, model_from_json


def _marking_model(marker: str) -> Sequential:
    """A model whose Lambda writes ``marker`` whenever its code runs (building the model on load runs it)."""
    model = Sequential([Dense(3, input_shape=(4,)),
                        Lambda(lambda x: (open(marker, "w").close(), x * 2.0)[1], name="doubler")])
    os.remove(marker)  # written while building it here
    return model


def test_every_loading_entry_point_refuses_stored_code_by_default_and_runs_none_of_it(tmp_path):
    marker = str(tmp_path / "ran")
    open(marker, "w").close()
    model = _marking_model(marker)
    path = str(tmp_path / "model.h5")
    model.save(path)
    attempts = {
        "load_model": lambda: load_model(path),
        "load_model(compile=False)": lambda: load_model(path, compile=False),
        "model_from_json": lambda: model_from_json(model.to_json()),
        "model_from_config": lambda: model_from_config(json.loads(model.to_json())),
        "layers.deserialize": lambda: layers.deserialize(json.loads(model.to_json())),
        "a Lambda alone": lambda: layers.deserialize({"class_name": "Lambda",
                                                     "config": model.layers[1].get_config()}),
    }
    for name, attempt in attempts.items():
        with pytest.raises(ValueError, match="Lambda layer 'doubler'.*safe_mode=False.*enable_unsafe_deserialization"):
            attempt()
        assert not os.path.exists(marker), f"{name} ran the stored code"
    loaded = load_model(path, safe_mode=False)  # the opt-in: now the code runs (building the model)
    assert os.path.exists(marker)
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_the_opt_ins_reach_nested_layers_and_the_process_wide_switch(tmp_path, monkeypatch):
    inputs = Input(shape=(4,))
    outputs = Lambda(lambda t: t + 1.0, name="plus_one")(Dense(2)(inputs))
    model = Model(inputs, outputs)
    x = np.ones((3, 4), "float32")
    text = model.to_json()
    rebuilt = model_from_json(text, safe_mode=False)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(x), model.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match="'plus_one'"):
        model_from_json(text)
    monkeypatch.setattr(settings, "_unsafe_deserialization", False)
    settings.enable_unsafe_deserialization()
    assert settings.unsafe_deserialization_enabled()
    assert isinstance(model_from_json(text), Model)  # no safe_mode argument needed any more
    assert isinstance(model_from_json(text, safe_mode=True), Model)  # the switch wins, as in Keras 3


def test_named_functions_need_no_code_and_load_in_safe_mode(tmp_path):
    def shifted(x):
        return x - 1.0

    model = Sequential([Dense(2, input_shape=(3,)), Lambda(shifted, name="shift")])
    path = str(tmp_path / "named.h5")
    model.save(path)
    loaded = load_model(path, custom_objects={"shifted": shifted})
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match="Lambda layer 'shift': unknown function 'shifted'; pass it in custom_objects"):
        load_model(path)
    config = model.layers[1].get_config()
    for name in ("__import__", "_private", "K"):  # module internals and non-callables are not functions
        with pytest.raises(ValueError, match="unknown function"):
            Lambda.from_config({**config, "function": name})


def test_direct_from_config_of_your_own_layer_still_rebuilds_its_lambda():
    """Outside any load (cloning a layer you built), from_config is your own config, as in Keras 3."""
    layer = Lambda(lambda x: x * 3.0, name="triple")
    rebuilt = Lambda.from_config(layer.get_config())
    x = Input(shape=(2,))
    f = K.function([x], [rebuilt(x)])
    np.testing.assert_allclose(f([np.ones((1, 2), "float32")])[0], 3.0)
    with pytest.raises(ValueError, match="'triple'"):
        Lambda.from_config(layer.get_config(), safe_mode=True)


_CRAFTED = textwrap.dedent("""
    import base64, importlib.util, marshal, warnings
    import numpy as np
    from symkeras.layers import Input, Lambda
    from symkeras.saving.bytecode import TAG

    good = Lambda(lambda x: x * 2.0 + 1.0, name="crafted")
    config = good.get_config()
    code = (lambda x: x * 2.0 + 1.0).__code__

    def payload(code_object, magic=importlib.util.MAGIC_NUMBER, tagged=True):
        raw = marshal.dumps(code_object)
        if tagged:
            raw = TAG + magic + bytes([marshal.version]) + raw
        return base64.b64encode(raw).decode("ascii")

    rng = np.random.default_rng(0)
    cases = {
        "random bytecode": payload(code.replace(co_code=bytes(rng.integers(0, 256, 64, dtype=np.uint8)))),
        "a stack too small": payload(code.replace(co_stacksize=0)),
        "a constant index out of range": payload(code.replace(co_consts=())),
        "another Python": payload(code, magic=b"\\x00\\x01\\r\\n"),
        "not base64": "%%% not base64 %%%",
        "not marshal data": base64.b64encode(TAG + importlib.util.MAGIC_NUMBER + bytes([marshal.version])
                                             + b"\\xff\\x00garbage").decode("ascii"),
        "not a code object": payload(12345),
    }
    for name, text in cases.items():
        try:
            layer = Lambda.from_config({**config, "function": [text, None, None]}, safe_mode=False)
            layer(Input(shape=(3,)))
        except ValueError as error:
            assert "Lambda layer 'crafted'" in str(error), (name, error)
            print(name, "->", str(error).split(": ", 1)[1][:60])
        else:
            raise SystemExit(f"{name}: loaded")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = Lambda.from_config({**config, "function": [payload(code, tagged=False), None, None]},
                                    safe_mode=False)
    assert any("no interpreter tag" in str(w.message) for w in caught)
    print("legacy", legacy.function(3.0))
""")


def test_crafted_bytecode_is_a_value_error_with_safe_mode_off_never_a_crash():
    """Run in a process of its own: were a payload to get through, the interpreter would crash."""
    result = subprocess.run([sys.executable, "-c", _CRAFTED], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8 and lines[-1] == "legacy 7.0", result.stdout
    assert "another Python" in result.stdout and "stored by another Python" in result.stdout
