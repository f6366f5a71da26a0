"""The workloads of ../shared/bench/SPEC.md: B1 and B2 (MLPs, also at the K.function level), B3 (MNIST CNN),
B7 (the seeds' VGG-like CNN), B4 (stacked LSTMs), B5 (Embedding + LSTM) and B5e (Embedding +
GlobalAveragePooling1D), each as Keras 2 code on symkeras
and as the same model in PyTorch eager.

At the K.function level the graph is what Keras 2 builds for the MLPs: Dense = dot + bias, relu, Dropout
through K.dropout in the training graph, softmax + categorical cross-entropy, and the optimizer's update
rule written out with K ops.
"""

from __future__ import annotations

import numpy as np

SPECS = {
    "B1": dict(kind="mlp", inputs=20, hidden=64, classes=10, samples=1000, batch=128, dropout=0.5, epochs=20,
               optimizer="sgd_nesterov"),
    "B2": dict(kind="mlp", inputs=784, hidden=512, classes=10, samples=8192, batch=128, dropout=0.2, epochs=3,
               optimizer="rmsprop"),
    "B3": dict(kind="cnn_mnist", input_shape=(28, 28, 1), classes=10, samples=1024, batch=128, epochs=2,
               optimizer="adam"),
    "B7": dict(kind="vgg_like", input_shape=(100, 100, 3), classes=10, samples=256, batch=32, epochs=1,
               optimizer="sgd_nesterov_decay"),
    "B5e": dict(kind="embedding", vocabulary=20000, length=80, classes=1, samples=2048, batch=32, epochs=1,
                optimizer="adam"),
    "B4": dict(kind="lstm_stacked", input_shape=(8, 16), classes=10, samples=1024, batch=64, epochs=5,
               optimizer="rmsprop"),
    "B5": dict(kind="imdb_lstm", vocabulary=20000, length=80, classes=1, samples=2048, batch=32, epochs=1,
               optimizer="adam"),
}


def data(spec):
    rng = np.random.default_rng(0)
    n = spec["samples"]
    if spec["kind"] in ("embedding", "imdb_lstm"):
        x = rng.integers(0, spec["vocabulary"], size=(n, spec["length"])).astype(np.int32)
        return x, rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    shape = (spec["inputs"],) if spec["kind"] == "mlp" else spec["input_shape"]
    x = rng.random((n, *shape), dtype=np.float32)
    y = np.eye(spec["classes"], dtype=np.float32)[rng.integers(0, spec["classes"], n)]
    return x, y


def glorot(rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def initial_weights(spec):
    rng = np.random.default_rng(1)
    sizes = [spec["inputs"], spec["hidden"], spec["hidden"], spec["classes"]]
    weights = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        weights += [glorot(rng, a, b), np.zeros(b, np.float32)]
    return weights


def build_symkeras_step(spec):
    """The training step as one K.function: [x, y] -> [loss], updates applied inside."""
    import symkeras.backend as K

    x = K.placeholder((None, spec["inputs"]), name="x")
    y = K.placeholder((None, spec["classes"]), name="y")
    params = [K.variable(w, name=f"p{i}") for i, w in enumerate(initial_weights(spec))]
    h = x
    for layer in range(3):
        h = K.bias_add(K.dot(h, params[2 * layer]), params[2 * layer + 1])
        if layer < 2:
            h = K.relu(h)
            h = K.dropout(h, spec["dropout"], seed=layer + 1)
    loss = K.mean(K.categorical_crossentropy(y, K.softmax(h)))
    grads = K.gradients(loss, params)
    updates = []
    if spec["optimizer"] == "sgd_nesterov":
        lr, momentum = 0.01, 0.9
        for p, g in zip(params, grads):
            v = K.zeros(K.int_shape(p))
            new_v = momentum * v - lr * g
            updates += [(v, new_v), (p, p + momentum * new_v - lr * g)]
    else:
        lr, rho, eps = 1e-3, 0.9, 1e-7
        for p, g in zip(params, grads):
            a = K.zeros(K.int_shape(p))
            new_a = rho * a + (1.0 - rho) * K.square(g)
            updates += [(a, new_a), (p, p - lr * g / (K.sqrt(new_a) + eps))]
    return K.function([x, y], [loss], updates=updates, name=f"train_{spec['optimizer']}")


def build_keras_model(spec):
    """The workload as Keras 2 code on symkeras: the model and compile (fit measures it)."""
    from symkeras.layers import (
        LSTM,
        Conv2D,
        Dense,
        Dropout,
        Embedding,
        Flatten,
        GlobalAveragePooling1D,
        MaxPooling2D,
    )
    from symkeras.models import Sequential
    from symkeras.optimizers import SGD, Adam, RMSprop

    kind = spec["kind"]
    if kind == "mlp":
        model = Sequential([Dense(spec["hidden"], activation="relu", input_dim=spec["inputs"]),
                            Dropout(spec["dropout"]), Dense(spec["hidden"], activation="relu"),
                            Dropout(spec["dropout"]), Dense(spec["classes"], activation="softmax")])
        model.set_weights(initial_weights(spec))
    elif kind == "cnn_mnist":
        model = Sequential([Conv2D(32, 3, activation="relu", input_shape=spec["input_shape"]),
                            Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Dropout(0.25), Flatten(),
                            Dense(128, activation="relu"), Dropout(0.5), Dense(10, activation="softmax")])
    elif kind == "vgg_like":
        model = Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=spec["input_shape"]),
                            Conv2D(32, (3, 3), activation="relu"), MaxPooling2D(pool_size=(2, 2)), Dropout(0.25),
                            Conv2D(64, (3, 3), activation="relu"), Conv2D(64, (3, 3), activation="relu"),
                            MaxPooling2D(pool_size=(2, 2)), Dropout(0.25), Flatten(), Dense(256, activation="relu"),
                            Dropout(0.5), Dense(10, activation="softmax")])
    elif kind == "lstm_stacked":
        model = Sequential([LSTM(32, return_sequences=True, input_shape=spec["input_shape"]),
                            LSTM(32, return_sequences=True), LSTM(32), Dense(10, activation="softmax")])
    elif kind == "imdb_lstm":
        model = Sequential([Embedding(spec["vocabulary"], 128, input_length=spec["length"]), LSTM(128),
                            Dense(1, activation="sigmoid")])
    else:
        model = Sequential([Embedding(spec["vocabulary"], 128, input_length=spec["length"]),
                            GlobalAveragePooling1D(), Dense(1, activation="sigmoid")])
    optimizer = {"sgd_nesterov": lambda: SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
                 "sgd_nesterov_decay": lambda: SGD(learning_rate=0.01, decay=1e-6, momentum=0.9, nesterov=True),
                 "rmsprop": lambda: RMSprop(learning_rate=1e-3),
                 "adam": lambda: Adam(learning_rate=1e-3)}[spec["optimizer"]]()
    loss = "binary_crossentropy" if kind in ("embedding", "imdb_lstm") else "categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss)
    return model


def _torch_model(spec):
    import torch
    from torch import nn

    kind = spec["kind"]
    if kind == "mlp":
        model = nn.Sequential(
            nn.Linear(spec["inputs"], spec["hidden"]), nn.ReLU(), nn.Dropout(spec["dropout"]),
            nn.Linear(spec["hidden"], spec["hidden"]), nn.ReLU(), nn.Dropout(spec["dropout"]),
            nn.Linear(spec["hidden"], spec["classes"]))
        with torch.no_grad():
            for layer, (w, b) in zip([model[0], model[3], model[6]], zip(*[iter(initial_weights(spec))] * 2)):
                layer.weight.copy_(torch.from_numpy(w.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        return model
    if kind == "cnn_mnist":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Dropout(0.25), nn.Flatten(), nn.Linear(12 * 12 * 64, 128), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(128, 10))
    if kind == "vgg_like":
        return nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Dropout(0.25), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(22 * 22 * 64, 256), nn.ReLU(),
                             nn.Dropout(0.5), nn.Linear(256, 10))

    if kind == "lstm_stacked":
        class StackedLSTM(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(spec["input_shape"][1], 32, num_layers=3, batch_first=True)
                self.dense = nn.Linear(32, spec["classes"])

            def forward(self, x):
                return self.dense(self.lstm(x)[0][:, -1])

        return StackedLSTM()
    if kind == "imdb_lstm":
        class EmbeddingLSTM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(spec["vocabulary"], 128)
                self.lstm = nn.LSTM(128, 128, batch_first=True)
                self.dense = nn.Linear(128, 1)

            def forward(self, x):
                return self.dense(self.lstm(self.embedding(x))[0][:, -1])

        return EmbeddingLSTM()

    class EmbeddingAverage(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(spec["vocabulary"], 128)
            self.dense = nn.Linear(128, 1)

        def forward(self, x):
            return self.dense(self.embedding(x).mean(dim=1))

    return EmbeddingAverage()


def torch_batches(spec, x, y, device="cpu"):
    """The data as PyTorch wants it: images channels_first, class indices, int64 token ids (on ``device``)."""
    import torch

    if spec["kind"] in ("cnn_mnist", "vgg_like"):
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    tokens = spec["kind"] in ("embedding", "imdb_lstm")
    xt = torch.from_numpy(x.astype(np.int64) if tokens else x)
    yt = torch.from_numpy(y if tokens else y.argmax(1))
    bs = spec["batch"]
    xt, yt = xt.to(device), yt.to(device)
    return [(xt[i * bs:(i + 1) * bs], yt[i * bs:(i + 1) * bs]) for i in range(len(x) // bs)]


def build_torch_step(spec, device="cpu"):
    import torch

    torch.manual_seed(0)
    model = _torch_model(spec).to(device)
    optimizer = spec["optimizer"]
    if optimizer.startswith("sgd"):
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    binary = spec["kind"] in ("embedding", "imdb_lstm")
    loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
    model.train()

    def step(batch):
        xb, yb = batch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step
