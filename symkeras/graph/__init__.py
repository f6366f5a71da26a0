"""The IR: tensors, nodes, ops, symbolic gradients and graph dumps.

Nothing here imports from the Keras layers, the backend or the code generators.
"""

from symkeras.graph import ops  # noqa: F401  (registers every op type)
from symkeras.graph.basic import (  # noqa: F401
    OP_TYPES,
    Node,
    Op,
    Tensor,
    as_tensor,
    constant,
    is_tensor,
    placeholder,
    variable,
)
from symkeras.graph.fgraph import Graph, MissingInputError, clone_tensors  # noqa: F401
from symkeras.graph.grad import DisconnectedGradientError, GradientError, gradients  # noqa: F401
from symkeras.graph.printing import debugprint, from_json, to_dot, to_json  # noqa: F401
