"""B1 (mlp-small) and B2 (mlp-mnist) of ../shared/bench/SPEC.md at the K.function level.

The graph is what Keras 2 builds for these models: Dense = dot + bias, relu,
Dropout through K.dropout in the training graph, softmax + categorical
cross-entropy, and the optimizer's update rule written out with K ops.
"""

from __future__ import annotations

import numpy as np

SPECS = {
    "B1": dict(inputs=20, hidden=64, classes=10, samples=1000, batch=128, dropout=0.5, epochs=20,
               optimizer="sgd_nesterov"),
    "B2": dict(inputs=784, hidden=512, classes=10, samples=8192, batch=128, dropout=0.2, epochs=3,
               optimizer="rmsprop"),
}


def data(spec):
    rng = np.random.default_rng(0)
    x = rng.random((spec["samples"], spec["inputs"]), dtype=np.float32)
    y = np.eye(spec["classes"], dtype=np.float32)[rng.integers(0, spec["classes"], spec["samples"])]
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
    """The workload as Keras 2 code on symkeras: Sequential, compile (fit measures it)."""
    from symkeras.layers import Dense, Dropout
    from symkeras.models import Sequential
    from symkeras.optimizers import SGD, RMSprop

    model = Sequential([Dense(spec["hidden"], activation="relu", input_dim=spec["inputs"]), Dropout(spec["dropout"]),
                        Dense(spec["hidden"], activation="relu"), Dropout(spec["dropout"]),
                        Dense(spec["classes"], activation="softmax")])
    model.set_weights(initial_weights(spec))
    if spec["optimizer"] == "sgd_nesterov":
        optimizer = SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
    else:
        optimizer = RMSprop(learning_rate=1e-3)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    return model


def build_torch_step(spec):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(spec["inputs"], spec["hidden"]), torch.nn.ReLU(), torch.nn.Dropout(spec["dropout"]),
        torch.nn.Linear(spec["hidden"], spec["hidden"]), torch.nn.ReLU(), torch.nn.Dropout(spec["dropout"]),
        torch.nn.Linear(spec["hidden"], spec["classes"]))
    with torch.no_grad():
        for layer, (w, b) in zip([model[0], model[3], model[6]], zip(*[iter(initial_weights(spec))] * 2)):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    if spec["optimizer"] == "sgd_nesterov":
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()

    def step(batch):
        xb, yb = batch
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return step
