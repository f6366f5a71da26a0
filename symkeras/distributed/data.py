"""Each rank's share of the data: every ``size()``-th sample (or batch), starting at its rank.

Every rank gets the same number of samples (the last ``len % size()`` are left out), so that every rank
runs the same number of steps: a rank with one batch more would wait for the others' allreduce.  With
``shuffle=False``, batch b of the ranks together is batch b of one process fed ``batch_size * size()``
samples (the same samples in another order), which is what averaging the gradients computes.
"""

from __future__ import annotations

from symkeras.distributed import runtime
from symkeras.utils.data_utils import Sequence


def _where(rank, size) -> tuple[int, int]:
    rank = runtime.rank() if rank is None else int(rank)
    size = runtime.size() if size is None else int(size)
    if not 0 <= rank < size:
        raise ValueError(f"shard: rank must be in [0, {size}), got {rank}")
    return rank, size


def shard(*arrays, rank=None, size=None):
    """This rank's samples of each of ``arrays`` (NumPy arrays, or lists of them, of equal length).

    Args:
        *arrays: arrays whose first axis is the samples.
        rank, size: the rank and the number of ranks (this process's, by default).

    Returns:
        One sharded array per argument (a single array for a single argument): samples ``rank``,
        ``rank + size``, ...; ``len // size`` of them.

    Raises:
        ValueError: the arrays differ in length.
    """
    rank, size = _where(rank, size)
    lengths = {len(a) for arg in arrays for a in (arg if isinstance(arg, (list, tuple)) else [arg])}
    if len(lengths) > 1:
        raise ValueError(f"shard: the arrays must have one length, got lengths {sorted(lengths)}")
    count = (lengths.pop() // size) * size if lengths else 0

    def part(a):
        return [part(x) for x in a] if isinstance(a, (list, tuple)) else a[rank:count:size]

    out = tuple(part(a) for a in arrays)
    return out[0] if len(out) == 1 else out


class ShardedSequence(Sequence):
    """This rank's batches of a ``keras.utils.Sequence``: batches ``rank``, ``rank + size``, ...; the same
    number on every rank (``len(sequence) // size``)."""

    def __init__(self, sequence, rank=None, size=None):
        self.sequence = sequence
        self.rank, self.size = _where(rank, size)

    def __len__(self):
        return len(self.sequence) // self.size

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"ShardedSequence index {index} out of range (length {len(self)})")
        return self.sequence[index * self.size + self.rank]

    def on_epoch_end(self):
        self.sequence.on_epoch_end()
