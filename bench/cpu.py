"""CPU seconds used so far by processes of this machine, from /proc (Linux):
the benchmarks report CPU per request beside requests per second, which a
shared, noisy machine disturbs far less."""

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _processes():
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:  # gone meanwhile
            continue
        fields = tail.split()
        # fields[1] is the parent pid; [11] and [12] user and system ticks.
        yield int(stat.parent.name), head.split("(", 1)[1], int(fields[1]), int(fields[11]) + int(fields[12])


def postgres_cpu() -> float:
    """All PostgreSQL processes (backends and background writers)."""
    return sum(ticks for _, name, _, ticks in _processes() if name.startswith("postgres")) / _TICKS


def children_cpu(parent: int) -> float:
    """The children of ``parent`` (gunicorn's workers)."""
    return sum(ticks for _, _, ppid, ticks in _processes() if ppid == parent) / _TICKS
