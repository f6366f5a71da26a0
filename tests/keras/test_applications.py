"""VGG16 and VGG19: their architectures (Keras's layer names and parameter counts), a local weights file,
the input-shape checks, preprocess_input against tf-keras 2.21 (tests/fixtures/make_keras2_image_fixtures.py
writes it) and decode_predictions."""

import json
import os

import numpy as np
import pytest
from fixtures.keras2_image_cases import preprocess_inputs

import symkeras as keras
from symkeras.applications import VGG16, VGG19, imagenet_utils, vgg16

KERAS2 = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_image.npz"))


@pytest.mark.parametrize("build, convs, params", [(VGG16, 13, 14714688), (VGG19, 16, 20024384)])
def test_the_convolutional_parts_have_keras_layers_and_parameter_counts(build, convs, params):
    model = build(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    names = [layer.name for layer in model.layers]
    assert names[1:4] == ["block1_conv1", "block1_conv2", "block1_pool"]
    assert sum(name.endswith(tuple(f"conv{k}" for k in range(1, 5))) for name in names) == convs
    assert model.count_params() == params and model.output_shape == (None, 512)
    assert model.predict(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 512)


def test_vgg16_with_its_top_has_its_documented_parameter_count():
    model = VGG16(weights=None)
    assert model.count_params() == 138357544 and model.output_shape == (None, 1000)
    assert [layer.name for layer in model.layers[-4:]] == ["flatten", "fc1", "fc2", "predictions"]


def test_a_local_weights_file_loads(tmp_path):
    model = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg16_notop.h5")
    model.save_weights(path)
    again = VGG16(include_top=False, weights=path, input_shape=(32, 32, 3))
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = keras.layers.Input(shape=(48, 48, 3))
    on_x = VGG19(include_top=False, weights=None, input_tensor=x)
    assert on_x.inputs[0] is x and on_x.output_shape == (None, 1, 1, 512)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="The `weights` argument should be either `None`"):
        VGG16(weights="nowhere.h5")
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        VGG16(include_top=False, weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="`input_shape` must be a tuple of three integers"):
        VGG16(include_top=False, weights=None, input_shape=(32, 32))


def test_preprocess_input_matches_keras2():
    x = preprocess_inputs()
    for mode in ("caffe", "tf", "torch"):
        got = imagenet_utils.preprocess_input(x, mode=mode)
        np.testing.assert_allclose(got, KERAS2[f"preprocess/{mode}"], rtol=1e-6, atol=1e-4)
    first = imagenet_utils.preprocess_input(x.transpose(0, 3, 1, 2), data_format="channels_first")
    np.testing.assert_allclose(first, KERAS2["preprocess/caffe_first"], rtol=1e-6, atol=1e-4)
    assert vgg16.preprocess_input(x.astype("uint8")).dtype == np.float32
    np.testing.assert_array_equal(x, preprocess_inputs())  # (x itself is not changed)


def test_decode_predictions_names_the_top_classes(tmp_path):
    index = tmp_path / "imagenet_class_index.json"
    index.write_text(json.dumps({str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}))
    preds = np.zeros((2, 1000), "float32")
    preds[0, [5, 7, 9]] = [0.2, 0.5, 0.3]
    preds[1, 999] = 1.0
    decoded = vgg16.decode_predictions(preds, top=2, class_index=str(index))
    assert decoded[0] == [("n00000007", "class_7", pytest.approx(0.5)), ("n00000009", "class_9", pytest.approx(0.3))]
    assert decoded[1][0][:2] == ("n00000999", "class_999")
    with pytest.raises(ValueError, match=r"expects a batch of predictions .* Found array with shape: \(2, 10\)"):
        vgg16.decode_predictions(np.zeros((2, 10)))
