"""Keras 2 utilities: to_categorical, Sequence, Progbar, custom objects, get_file, plot_model."""

from symkeras.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence  # noqa: F401
from symkeras.utils.files import get_file  # noqa: F401
from symkeras.utils.generic_utils import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    serialize_keras_object,
)
from symkeras.utils.io_utils import HDF5Matrix  # noqa: F401
from symkeras.utils.layer_utils import get_source_inputs, print_summary  # noqa: F401
from symkeras.utils.np_utils import normalize, to_categorical  # noqa: F401
from symkeras.utils.progbar import Progbar  # noqa: F401
from symkeras.utils.vis_utils import model_to_dot, plot_model  # noqa: F401
