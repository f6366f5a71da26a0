"""``python -m symkeras.cache info|clear|trim [MB]``: the kernel cache's size, emptying it, bounding it.

``wait_for_compiles()`` waits for the compiles running in the background (see its docstring).

The cache lives in ``SYMKERAS_CACHE_DIR`` (default ``~/.cache/symkeras``) and is bounded by
``SYMKERAS_CACHE_MAX_MB`` (default 1024): see symkeras/codegen/cache.py.
"""

from __future__ import annotations

import argparse
import sys

from symkeras.codegen import cache


def info() -> str:
    """A summary of the cache: directory, modules, programs (program_cache.py), their bundles of machine
    code (codegen/numba/native.py), size, bound."""
    listed = cache.entries()
    programs = sum(e["path"].endswith(".json") for e in listed)
    bundles = sum(e["path"].endswith(".bin") for e in listed)
    size = sum(e["bytes"] for e in listed)
    bound = cache.max_bytes()
    limit = f"{bound / 2**20:,.0f} MB" if bound else "none"
    return (f"directory: {cache.cache_dir()}\nmodules: {len(listed) - programs - bundles}\nprograms: {programs}\n"
            f"bundles: {bundles}\nsize: {size / 2**20:,.1f} MB\nbound: {limit}")


def wait_for_compiles() -> None:
    """Wait until every compile running in the background for this process's functions has finished.

    A compiled function's first calls run on the reference evaluator while helper processes compile it
    (``SYMKERAS_BACKGROUND_COMPILE=0`` turns that off); after this returns, each such function's next call
    runs its compiled step.  Useful before timing a model, say.
    """
    from symkeras.codegen.numba.precompile import wait_for_background

    wait_for_background()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symkeras.cache", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="where the cache is, how many modules, how large")
    sub.add_parser("clear", help="remove every cached module (with its compiled code) and program")
    trim = sub.add_parser("trim", help="remove least recently used entries down to a size")
    trim.add_argument("megabytes", type=float, nargs="?", help="the size to keep (default: the bound)")
    args = parser.parse_args(argv)
    if args.command == "info":
        print(info())
    elif args.command == "clear":
        print(f"removed {cache.clear()} entries from {cache.cache_dir()}")
    else:
        limit = cache.max_bytes() if args.megabytes is None else int(args.megabytes * 2**20)
        print(f"removed {cache.trim(limit)} entries from {cache.cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
