"""The runtime: where variables' values live (outside the IR), and the functions that read and write them."""

from symkeras.runtime.storage import (  # noqa: F401
    HOST,
    HostStorage,
    Storage,
    get_value,
    home,
    move,
    set_value,
    set_values,
    variable,
)
