"""Collectors: each module has ``KIND``, ``applies(host)`` and
``collect(runner, host, previous) -> Collected`` where ``previous`` is the data
of the last successful snapshot of the same kind for that host (or None).
"""

#: module names, in the order they run on a host
COLLECTOR_MODULES = (
    "lpsectl.collect.system",
    "lpsectl.collect.postgres",
    "lpsectl.collect.logs",
    "lpsectl.collect.access",
)
