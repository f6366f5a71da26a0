"""The ``TensorBoard`` callback: event files TensorBoard reads, written through tensorboardX (the
``tensorboard`` extra: ``pip install 'symkeras[tensorboard]'``)."""

from __future__ import annotations

import numpy as np

from symkeras.callbacks import Callback, _not_rank_zero


def _writer(log_dir):
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError("The TensorBoard callback writes through tensorboardX: pip install "
                          "'symkeras[tensorboard]' (or pip install tensorboardX).") from error
    return SummaryWriter(log_dir)


def graph_def(model):
    """The model's layers as a TensorBoard GraphDef: a node a layer (its class as the op), its inputs the
    layers that feed it."""
    from tensorboardX.proto import graph_pb2, node_def_pb2

    from symkeras.utils.vis_utils import _layers_with_inputs, _nodes_of

    in_model = _nodes_of(model)
    graph = graph_pb2.GraphDef()
    for layer in _layers_with_inputs(model):
        inputs = []
        for node in layer._inbound_nodes:
            if id(node) in in_model:
                inputs += [parent.name for parent in node.inbound_layers if parent is not None]
        graph.node.append(node_def_pb2.NodeDef(name=layer.name, op=type(layer).__name__,
                                               input=list(dict.fromkeys(inputs))))
    return graph


class TensorBoard(Callback):
    """Writes what TensorBoard shows: the logs' numbers (loss, metrics, validation ones) per epoch (and per
    batch with ``update_freq``), the model's graph of layers, and histograms of the weights.

    Args:
        log_dir: the folder of the event files.
        histogram_freq: write each weight's histogram every this many epochs (0: never).
        batch_size: Keras 2's argument (for the histograms of activations, which are not written).
        write_graph: write the model's graph when training starts.
        update_freq: ``'epoch'``, ``'batch'``, or a number of samples between writes.

    Raises:
        ImportError: tensorboardX is not installed (when training starts).
        ValueError: write_grads, write_images or embeddings asked for (symkeras writes scalars, the graph
            and weight histograms), or an unknown update_freq.
    """

    def __init__(self, log_dir="./logs", histogram_freq=0, batch_size=32, write_graph=True, write_grads=False,
                 write_images=False, embeddings_freq=0, embeddings_layer_names=None, embeddings_metadata=None,
                 embeddings_data=None, update_freq="epoch"):
        super().__init__()
        unsupported = [name for name, value in (("write_grads", write_grads), ("write_images", write_images),
                                                ("embeddings_freq", embeddings_freq)) if value]
        if unsupported:
            raise ValueError(f"TensorBoard: {', '.join(unsupported)} is not written by symkeras (it writes scalars, "
                             "the graph of layers and weight histograms); leave it unset.")
        if not (update_freq in ("epoch", "batch") or isinstance(update_freq, int)):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a number of samples, got "
                             f"{update_freq!r}")
        self.log_dir, self.histogram_freq, self.batch_size = log_dir, histogram_freq, batch_size
        self.write_graph, self.update_freq = write_graph, update_freq
        self.writer = None
        self._samples_seen = self._samples_at_last_write = 0
        self._batches_seen = 0

    def on_train_begin(self, logs=None):
        if _not_rank_zero():
            return
        self.writer = _writer(self.log_dir)
        if self.write_graph:
            from tensorboardX.proto import event_pb2

            event = event_pb2.Event(graph_def=graph_def(self.model).SerializeToString())
            self.writer._get_file_writer().add_event(event)

    def _scalars(self, logs, step, prefix=""):
        for name, value in (logs or {}).items():
            if name in ("batch", "size") or np.ndim(value) != 0:
                continue
            self.writer.add_scalar(prefix + name, float(value), step)

    def on_batch_end(self, batch, logs=None):
        if self.writer is None or self.update_freq == "epoch":
            return
        self._batches_seen += 1
        self._samples_seen += int((logs or {}).get("size", 1))
        if self.update_freq == "batch" or self._samples_seen - self._samples_at_last_write >= self.update_freq:
            self._scalars(logs, self._samples_seen if self.update_freq != "batch" else self._batches_seen, "batch_")
            self._samples_at_last_write = self._samples_seen

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is None:
            return
        self._scalars(logs, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for layer in self.model.layers:
                for weight, value in zip(layer.weights, layer.get_weights()):
                    self.writer.add_histogram(weight.name.replace(":", "_"), np.asarray(value), epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
