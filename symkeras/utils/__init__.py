"""Keras 2 utilities: to_categorical, Sequence, Progbar, custom objects, get_file."""

from symkeras.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence  # noqa: F401
from symkeras.utils.files import get_file  # noqa: F401
from symkeras.utils.generic_utils import (  # noqa: F401
    custom_object_scope,
    get_custom_objects,
)
from symkeras.utils.np_utils import normalize, to_categorical  # noqa: F401
from symkeras.utils.progbar import Progbar  # noqa: F401
