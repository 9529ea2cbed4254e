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
    """All PostgreSQL processes (backends and background writers), of every
    cluster on the machine: see ``tree_cpu`` for one cluster's."""
    return sum(ticks for _, name, _, ticks in _processes() if name.startswith("postgres")) / _TICKS


def children_cpu(parent: int) -> float:
    """The children of ``parent`` (gunicorn's workers)."""
    return sum(ticks for _, _, ppid, ticks in _processes() if ppid == parent) / _TICKS


def tree_cpu(parent: int) -> float:
    """``parent`` and its children: those alive, and those that exited and
    were reaped by it (its cutime and cstime). For one PostgreSQL cluster
    (the postmaster's pid: its backends, background writers, and autovacuum
    workers come and gone), where ``postgres_cpu`` also counts every other
    cluster a shared machine runs."""
    try:
        fields = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[11] to [14]: user and system ticks, then those of reaped children.
    own = sum(int(field) for field in fields[11:15])
    return (own + sum(ticks for _, _, ppid, ticks in _processes() if ppid == parent)) / _TICKS


def parent_of(pid: int) -> int:
    """The parent pid of ``pid`` (e.g. the postmaster of a backend)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
