"""What the examples share: ``--quick`` (small data, few epochs: how ``make test`` runs them)."""

import sys


def quick() -> bool:
    """Whether the example runs in its quick mode (``--quick`` on the command line)."""
    return "--quick" in sys.argv[1:]
