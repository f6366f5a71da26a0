"""keras.preprocessing.image against Keras 2 (fixtures written by tf-keras 2.21: see
tests/fixtures/make_keras2_image_fixtures.py), directories of class folders, image files, and errors."""

import os
import warnings

import numpy as np
import pytest
from fixtures.keras2_image_cases import CASES, image

from symkeras.preprocessing import image as kimage

KERAS2 = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_image.npz"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras2(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = CASES[name](kimage)
    keys = sorted(k.split("/", 1)[1] for k in KERAS2.files if k.startswith(name + "/"))
    assert sorted(got) == keys
    for key in keys:
        want = KERAS2[f"{name}/{key}"]
        value = np.asarray(got[key] if got[key] is not None else np.nan, dtype=want.dtype)
        assert value.shape == want.shape, key
        np.testing.assert_allclose(value, want, rtol=1e-5, atol=1e-4, err_msg=key)


def _class_folders(root, size=(7, 9)):
    for k, name in enumerate(["cats", "dogs"]):
        os.makedirs(root / name)
        for j in range(3 + k):
            kimage.save_img(str(root / name / f"{j}.png"), image(shape=(*size, 3), seed=10 * k + j))
    (root / "dogs" / "notes.txt").write_text("not an image")


def test_flow_from_directory_reads_class_folders(tmp_path, capsys):
    _class_folders(tmp_path)
    gen = kimage.ImageDataGenerator(rescale=1 / 255.0)
    batches = gen.flow_from_directory(str(tmp_path), target_size=(4, 5), batch_size=4, shuffle=False)
    assert "Found 7 images belonging to 2 classes." in capsys.readouterr().out
    assert batches.class_indices == {"cats": 0, "dogs": 1} and batches.classes.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert batches.filenames[0] == os.path.join("cats", "0.png") and len(batches) == 2
    x, y = batches[0]
    assert x.shape == (4, 4, 5, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(y, [[1, 0], [1, 0], [1, 0], [0, 1]])
    whole = kimage.img_to_array(kimage.load_img(str(tmp_path / "cats" / "0.png"), target_size=(4, 5))) / 255.0
    np.testing.assert_allclose(x[0], whole, rtol=1e-6)
    sparse = gen.flow_from_directory(str(tmp_path), target_size=(4, 5), class_mode="sparse", color_mode="grayscale",
                                     batch_size=7, shuffle=False)[0]
    assert sparse[0].shape == (7, 4, 5, 1) and sparse[1].tolist() == [0, 0, 0, 1, 1, 1, 1]
    split = kimage.ImageDataGenerator(validation_split=0.5)
    assert split.flow_from_directory(str(tmp_path), subset="validation").samples == 3  # 1 cat, 2 dogs
    assert split.flow_from_directory(str(tmp_path), subset="training").samples == 4


def test_a_model_trains_on_augmented_batches():
    from symkeras.layers import Conv2D, Dense, Flatten
    from symkeras.models import Sequential

    x = np.stack([image(shape=(8, 8, 3), seed=k) for k in range(8)])
    y = np.eye(2, dtype="float32")[np.arange(8) % 2]
    gen = kimage.ImageDataGenerator(rotation_range=20, width_shift_range=0.1, horizontal_flip=True,
                                    rescale=1 / 255.0, validation_split=0.25)
    model = Sequential([Conv2D(2, 3, activation="relu", input_shape=(8, 8, 3)), Flatten(),
                        Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    train = gen.flow(x, y, batch_size=3, seed=1, subset="training")
    assert train.n == 6 and gen.flow(x, y, subset="validation").n == 2
    history = model.fit_generator(train, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    batch_x, batch_y, weights = gen.flow(x, y, sample_weight=np.arange(8.0), batch_size=8, shuffle=False)[0]
    assert batch_x.shape == (8, 8, 8, 3) and weights.tolist() == list(np.arange(8.0)) and batch_y.shape == (8, 2)


def test_image_files_round_trip(tmp_path):
    x = image(shape=(5, 4, 3))
    kimage.save_img(str(tmp_path / "a.png"), x, scale=False)
    back = kimage.img_to_array(kimage.load_img(str(tmp_path / "a.png")))
    np.testing.assert_array_equal(back, x.astype("uint8").astype("float32"))
    grey = kimage.load_img(str(tmp_path / "a.png"), color_mode="grayscale", target_size=(2, 3),
                           interpolation="bilinear")
    assert grey.size == (3, 2) and kimage.img_to_array(grey).shape == (2, 3, 1)
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        kimage.load_img(str(tmp_path / "a.png"), color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
        kimage.load_img(str(tmp_path / "a.png"), target_size=(2, 2), interpolation="cubic")


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"should have rank 4. You passed an array with shape \(3, 4, 4\)"):
        kimage.ImageDataGenerator().flow(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"same length. Found: x.shape = \(3, 4, 4, 1\), y.shape = \(2,\)"):
        kimage.ImageDataGenerator().flow(np.zeros((3, 4, 4, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="Input to `.fit\\(\\)` should have rank 4"):
        kimage.ImageDataGenerator(featurewise_center=True).fit(np.zeros((4, 4, 1)))
    with pytest.raises(ValueError, match="`zoom_range` should be a float or a tuple or list of two floats"):
        kimage.ImageDataGenerator(zoom_range=[1, 2, 3])
    with pytest.raises(ValueError, match="`validation_split` must be strictly between 0 and 1"):
        kimage.ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="Expected image array to have rank 3"):
        kimage.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Invalid class_mode: words"):
        kimage.ImageDataGenerator().flow_from_directory(".", class_mode="words")
