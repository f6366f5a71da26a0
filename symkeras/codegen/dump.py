"""SYMKERAS_DUMP_DIR: every compile writes its graph before and after each pass, what fired, and its source."""

from __future__ import annotations

import os
import re

from symkeras.graph.printing import format_tree, to_dot


def dump_dir() -> str | None:
    return os.environ.get("SYMKERAS_DUMP_DIR") or None


def write_dump(directory: str, name: str, key: str, optimized, source: str | None) -> str:
    """Write ``NN-<pass>.txt/.dot`` per snapshot, ``rewrites.txt`` and ``source.py`` (when the backend
    generated one); returns the folder."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    folder = os.path.join(directory, f"{slug}-{key}")
    os.makedirs(folder, exist_ok=True)
    for i, (pass_name, graph) in enumerate(optimized.snapshots):
        stem = os.path.join(folder, f"{i:02d}-{pass_name}")
        with open(stem + ".txt", "w") as fh:
            fh.write(format_tree(graph.outputs, stop=graph.inputs) + "\n")
        with open(stem + ".dot", "w") as fh:
            fh.write(to_dot(graph.outputs, title=f"{name} after {pass_name}") + "\n")
    with open(os.path.join(folder, "rewrites.txt"), "w") as fh:
        fh.write((optimized.report() or "no rewrite ran") + "\n")
    if source is not None:
        with open(os.path.join(folder, "source.py"), "w") as fh:
            fh.write(source)
    return folder
