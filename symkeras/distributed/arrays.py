"""Collectives on NumPy arrays (Horovod's ``allreduce``, ``allgather``, ``broadcast``) and the broadcast of
a model's variables from one rank, which first checks that every rank holds the same variables."""

from __future__ import annotations

import numpy as np

from symkeras.distributed import collectives
from symkeras.distributed.collectives import DistributedError, comm, mpi, wait

#: Horovod's names of the reductions
Average = "average"
Sum = "sum"


def allreduce(value, average: bool | None = None, name: str | None = None, op: str | None = None) -> np.ndarray:
    """``value`` summed or averaged across the ranks (every rank passes an array of the same shape).

    Args:
        value: array-like.
        average: Horovod's older switch: True averages, False sums (``op`` wins when both are given).
        name: unused; Horovod's name of the collective.
        op: ``Average`` (the default) or ``Sum``.

    Returns:
        A new array: the sum, or the float mean, of the ranks' values.
    """
    op = op or (Sum if average is False else Average)
    if op not in (Average, Sum):
        raise ValueError(f"allreduce: op must be Average or Sum, got {op!r}")
    array = np.array(value, copy=True)
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    shape = array.shape
    flat = np.ascontiguousarray(array.reshape(-1))
    if op == Average and flat.dtype.kind not in "fc":
        flat = flat.astype(np.float64)
    if collectives.initialized() and comm().Get_size() > 1:
        collectives.reduce_in_place(flat, average=False, fp16=False)
        if op == Average:
            flat /= comm().Get_size()
    return flat.reshape(shape)


def allgather(value, name: str | None = None) -> np.ndarray:
    """The ranks' arrays concatenated along the first axis, in rank order (the first axis may differ
    between ranks; the others and the dtype must not)."""
    array = np.ascontiguousarray(np.asarray(value))
    if array.ndim == 0:
        array = array.reshape(1)
    if not collectives.initialized() or comm().Get_size() == 1:
        return array.copy()
    c, MPI = comm(), mpi()
    rows = np.array([array.shape[0]], np.int64)
    all_rows = np.empty(c.Get_size(), np.int64)
    wait(c.Iallgather(rows, all_rows), "an allgather of sizes")
    _same_everywhere(f"{array.dtype.str} {array.shape[1:]}", "allgather: the arrays' dtype and trailing shape")
    per_row = int(np.prod(array.shape[1:], dtype=np.int64))
    counts = all_rows * per_row
    out = np.empty((int(all_rows.sum()),) + array.shape[1:], array.dtype)
    displacements = np.concatenate([[0], np.cumsum(counts)[:-1]])
    byte = array.dtype.itemsize
    wait(c.Iallgatherv([array.view(np.uint8), MPI.BYTE],
                       [out.view(np.uint8), (counts * byte, displacements * byte), MPI.BYTE]), "an allgather")
    return out


def broadcast(value, root_rank: int = 0, name: str | None = None) -> np.ndarray:
    """The array of rank ``root_rank``, on every rank (the others' ``value`` gives only shape and dtype,
    which must be the root's)."""
    array = np.ascontiguousarray(np.array(value, copy=True))
    if not collectives.initialized() or comm().Get_size() == 1:
        return array
    _same_everywhere(f"{array.dtype.str} {array.shape}", "broadcast: the arrays' dtype and shape")
    wait(comm().Ibcast([array.view(np.uint8).reshape(-1), mpi().BYTE], root=root_rank), "a broadcast")
    return array


def _gather_text(text: str) -> list[str]:
    """Every rank's ``text``, in rank order."""
    c, MPI = comm(), mpi()
    data = np.frombuffer(text.encode(), np.uint8).copy()
    sizes = np.empty(c.Get_size(), np.int64)
    wait(c.Iallgather(np.array([data.size], np.int64), sizes), "an allgather of sizes")
    out = np.empty(int(sizes.sum()), np.uint8)
    displacements = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    wait(c.Iallgatherv([data, MPI.BYTE], [out, (sizes, displacements), MPI.BYTE]), "an allgather")
    return [out[s:s + n].tobytes().decode() for s, n in zip(displacements, sizes)]


def _same_everywhere(text: str, what: str) -> None:
    texts = _gather_text(text)
    for rank, other in enumerate(texts):
        if other != texts[0]:
            raise DistributedError(f"{what} differ between ranks: {texts[0]} on rank 0, {other} on rank {rank}.")


def _signature(variables) -> list[tuple[str, str, tuple]]:
    import symkeras.backend as K

    return [(getattr(v, "name", None) or f"variable {k}", str(K.dtype(v)), tuple(K.int_shape(v)))
            for k, v in enumerate(variables)]


def _mismatch(signatures: list[list[tuple]], root_rank: int) -> str | None:
    """What differs between the root's variables and another rank's, or None."""
    root = signatures[root_rank]
    for rank, theirs in enumerate(signatures):
        if len(theirs) != len(root):
            return (f"rank {root_rank} has {len(root)} variables to broadcast and rank {rank} has {len(theirs)}: "
                    "the ranks built different models")
        for k, (mine, other) in enumerate(zip(root, theirs)):
            if mine[1:] != other[1:]:
                return (f"variable {k} is '{mine[0]}' {mine[1]} of shape {mine[2]} on rank {root_rank} but "
                        f"'{other[0]}' {other[1]} of shape {other[2]} on rank {rank}: the ranks built different "
                        "models")
    return None


def broadcast_variables(variables, root_rank: int = 0) -> None:
    """Set ``variables`` (symkeras variables: a model's and its optimizer's weights) on every rank to their
    values on ``root_rank``, one broadcast per dtype.

    Raises:
        DistributedError: on every rank, when the ranks' variables differ in number, shape or dtype (the
            message names the first one that differs and the ranks); no variable is changed.
    """
    import symkeras.backend as K

    variables = list(variables)
    if not collectives.initialized() or comm().Get_size() == 1:
        return
    signature = _signature(variables)
    texts = _gather_text(repr(signature))
    signatures = [_parse_signature(t) for t in texts]
    problem = _mismatch(signatures, root_rank)
    if problem:
        raise DistributedError(f"broadcast_variables: {problem}.")
    values = K.batch_get_value(variables)
    by_dtype: dict[str, list[int]] = {}
    for k, value in enumerate(values):
        by_dtype.setdefault(np.asarray(value).dtype.str, []).append(k)
    pairs = []
    for _, where in sorted(by_dtype.items()):
        fused = np.concatenate([np.asarray(values[k]).reshape(-1) for k in where])
        wait(comm().Ibcast([fused.view(np.uint8), mpi().BYTE], root=root_rank),
             f"a broadcast of {fused.nbytes} bytes of variables")
        offset = 0
        for k in where:
            size = int(np.prod(signature[k][2], dtype=np.int64))
            pairs.append((variables[k], fused[offset:offset + size].reshape(signature[k][2])))
            offset += size
    K.batch_set_value(pairs)


def _parse_signature(text: str) -> list[tuple]:
    """A rank's signature back from its text, without evaluating it: names, dtypes and shapes only."""
    import ast

    return [tuple(entry) for entry in ast.literal_eval(text)]
