"""``keras.models.clone_model``: the same architecture with new layers (new weights), on new inputs."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.engine.input_layer import Input, InputLayer
from symkeras.engine.network import nodes_in_order
from symkeras.utils.generic_utils import to_list


def _from_config(layer):
    return layer.__class__.from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None):
    """A copy of ``model``'s architecture: each layer made again (by ``clone_function(layer)``, its class's
    ``from_config(get_config())`` unless given, so with freshly initialized weights) and called as in the
    original, shared layers shared again.

    Args:
        model: a Sequential or functional model.
        input_tensors: tensors (from ``Input``) to build the clone on, in the order of ``model.inputs``; new
            Inputs of the same shapes and dtypes unless given.
        clone_function: makes each new layer from the original.

    Returns:
        A model (a Sequential for a Sequential built on its own inputs).

    Raises:
        ValueError: ``input_tensors`` does not match the model's inputs in number.
    """
    from symkeras.engine.sequential import Sequential
    from symkeras.engine.training import Model

    clone = clone_function or _from_config
    if isinstance(model, Sequential) and input_tensors is None:
        layers = [clone(layer) for layer in model.layers]
        return Sequential(layers, name=model.name)
    inputs = list(model.inputs)
    if input_tensors is None:
        new_inputs = [Input(batch_shape=K.int_shape(x), dtype=K.dtype(x), name=x._keras_history[0].name)
                      for x in inputs]
    else:
        new_inputs = to_list(input_tensors)
        if len(new_inputs) != len(inputs):
            raise ValueError(f"clone_model: the model has {len(inputs)} inputs but {len(new_inputs)} input tensors "
                             "were given.")
    mapping = {id(old): new for old, new in zip(inputs, new_inputs)}
    made: dict[int, object] = {}
    for node in nodes_in_order(inputs, list(model.outputs)):
        layer = node.outbound_layer
        if isinstance(layer, InputLayer):
            continue
        if id(layer) not in made:
            made[id(layer)] = clone(layer)
        args = [mapping[id(t)] for t in node.input_tensors]
        out = made[id(layer)](args[0] if len(args) == 1 else args, **node.arguments)
        for old, new in zip(to_list(node.output_tensors), to_list(out)):
            mapping[id(old)] = new
    outputs = [mapping[id(t)] for t in model.outputs]
    return Model(new_inputs, outputs if len(outputs) > 1 else outputs[0], name=model.name)
