"""The seeds' convolutional examples, with only the import line changed (and fewer epochs where noted)."""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np

import symkeras as keras
import symkeras.backend as K
from symkeras.layers import (
    Conv1D,
    Conv2D,
    Convolution2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    MaxPooling1D,
    MaxPooling2D,
    ZeroPadding2D,
)
from symkeras.models import Sequential
from symkeras.optimizers import SGD


def test_vgg_like_cnn_trains_on_random_data():
    # the seed's code as written, but one epoch instead of ten (the benchmarks run it in full: B7)
    np.random.seed(0)
    x_train = np.random.random((100, 100, 100, 3))
    y_train = keras.utils.to_categorical(np.random.randint(10, size=(100, 1)), num_classes=10)
    x_test = np.random.random((20, 100, 100, 3))
    y_test = keras.utils.to_categorical(np.random.randint(10, size=(20, 1)), num_classes=10)
    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(100, 100, 3)))
    model.add(Conv2D(32, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(256, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lr= is Keras 2's old spelling
        sgd = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd)
    assert model.output_shape == (None, 10) and model.layers[6].output_shape == (None, 22, 22, 64)
    history = model.fit(x_train, y_train, batch_size=32, epochs=1, verbose=0)
    score = model.evaluate(x_test, y_test, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and np.isfinite(score)
    assert 1.5 < score < 4.0  # ten random classes: about log(10)
    assert int(K.get_value(sgd.iterations)) == 4


def test_conv1d_sequence_classifier_trains():
    rng = np.random.default_rng(1)
    seq_length = 24
    x_train = rng.normal(size=(64, seq_length, 100)).astype("float32")
    y_train = (x_train[:, :, :5].mean(axis=(1, 2)) > 0).astype("float32")
    x_train[y_train == 1, 5:10, :] += 1.0  # a pattern the filters can find
    model = Sequential()
    model.add(Conv1D(64, 3, activation="relu", input_shape=(seq_length, 100)))
    model.add(Conv1D(64, 3, activation="relu"))
    model.add(MaxPooling1D(3))
    model.add(Conv1D(128, 3, activation="relu"))
    model.add(Conv1D(128, 3, activation="relu"))
    model.add(GlobalAveragePooling1D())
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=16, epochs=10, verbose=0)
    score = model.evaluate(x_train, y_train, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert score[1] > 0.9


def test_filter_visualization_by_gradient_ascent_channels_first():
    # the seed's pattern on a small channels_first network (Theano's ordering, as the tutorial assumes)
    K.set_image_data_format("channels_first")
    np.random.seed(3)
    img_width, img_height = 24, 24
    model = Sequential()
    model.add(ZeroPadding2D((1, 1), batch_input_shape=(1, 3, img_width, img_height)))
    first_layer = model.layers[-1]
    input_img = first_layer.input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Convolution2D(64, 3, 3): Keras 1's form
        model.add(Convolution2D(8, 3, 3, activation="relu", name="conv1_1"))
        model.add(ZeroPadding2D((1, 1)))
        model.add(Convolution2D(8, 3, 3, activation="relu", name="conv1_2"))
        model.add(MaxPooling2D((2, 2), strides=(2, 2)))
        model.add(ZeroPadding2D((1, 1)))
        model.add(Convolution2D(16, 3, 3, activation="relu", name="conv2_1"))
    layer_dict = dict([(layer.name, layer) for layer in model.layers])
    assert layer_dict["conv2_1"].output_shape == (1, 16, 12, 12)
    layer_name, filter_index = "conv2_1", 0
    layer_output = layer_dict[layer_name].output
    loss = K.mean(layer_output[:, filter_index, :, :])
    grads = K.gradients(loss, input_img)[0]
    assert K.int_shape(grads) == (1, 3, img_width, img_height)
    grads /= K.sqrt(K.mean(K.square(grads))) + 1e-5
    iterate = K.function([input_img], [loss, grads])
    input_img_data = np.random.random((1, 3, img_width, img_height)) * 20 + 128.0
    step = 1.0
    losses = []
    for _ in range(20):
        loss_value, grads_value = iterate([input_img_data])
        losses.append(float(loss_value))
        input_img_data += grads_value * step
    assert losses[-1] > losses[0] and sum(b >= a for a, b in zip(losses, losses[1:])) >= 17


def test_vgg16_convolutional_part_has_its_parameter_count():
    model = Sequential()
    model.add(ZeroPadding2D((1, 1), input_shape=(128, 128, 3)))
    for block, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, convs + 1):
            if block > 1 or i > 1:
                model.add(ZeroPadding2D((1, 1)))
            model.add(Conv2D(filters, (3, 3), activation="relu", name=f"conv{block}_{i}"))
        model.add(MaxPooling2D((2, 2), strides=(2, 2)))
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    assert "Total params: 14,714,688" in out.getvalue()
    assert model.output_shape == (None, 4, 4, 512)


def test_embedding_then_global_average_pooling_with_a_mask():
    # padded sequences: zeros are masked, so only the real tokens are averaged
    model = Sequential([Embedding(10, 4, input_length=5, mask_zero=True), GlobalAveragePooling1D(),
                        Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    x = np.array([[3, 4, 0, 0, 0], [3, 4, 4, 0, 0]], "int32")
    table = K.get_value(model.layers[0].embeddings)
    pooled = K.function([model.input], [model.layers[1].output])([x])[0]
    np.testing.assert_allclose(pooled[0], table[[3, 4]].mean(0), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], table[[3, 4, 4]].mean(0), rtol=1e-6)
    before = K.get_value(model.layers[0].embeddings)
    model.train_on_batch(x, np.array([[1.0], [0.0]], "float32"))
    changed = np.abs(K.get_value(model.layers[0].embeddings) - before).sum(axis=1) > 0
    assert changed.tolist() == [False, False, False, True, True, False, False, False, False, False]
