"""Data-parallel training over MPI in Horovod's model, with Horovod's Keras API: Horovod users change an
import (``import symkeras.distributed as hvd``).

One process per worker (rank), started by ``mpiexec -n 2 python train.py`` or
``python -m symkeras.distributed.run -np 2 train.py``; rank 0's weights are broadcast to all at the start
(``callbacks.BroadcastGlobalVariablesCallback(0)``); every step, the gradients of all layers are averaged
across the ranks by one fused allreduce per dtype inside the compiled training step
(``DistributedOptimizer``); by convention only rank 0 prints progress and writes checkpoints.  Needs the
``mpi`` extra (``pip install 'symkeras[mpi]'``: mpi4py and the mpich runtime), or mpi4py built against
an MPI the machine has.

    import symkeras as keras
    import symkeras.distributed as hvd

    hvd.init()
    x, y = hvd.shard(x, y)
    model.compile(hvd.DistributedOptimizer(keras.optimizers.SGD(0.01 * hvd.size())), "mse")
    model.fit(x, y, batch_size=32, verbose=1 if hvd.rank() == 0 else 0,
              callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                         hvd.callbacks.MetricAverageCallback()])
"""

from symkeras.distributed import callbacks  # noqa: F401
from symkeras.distributed.arrays import Average, Sum, allgather, allreduce, broadcast, broadcast_variables  # noqa: F401
from symkeras.distributed.collectives import DistributedError, allreduce_stats  # noqa: F401
from symkeras.distributed.data import ShardedSequence, shard  # noqa: F401
from symkeras.distributed.optimizer import Compression, DistributedOptimizer, load_model  # noqa: F401
from symkeras.distributed.runtime import (  # noqa: F401
    init,
    is_initialized,
    local_rank,
    local_size,
    rank,
    shutdown,
    size,
)
