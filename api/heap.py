"""A serving process's long-lived objects, set aside from Python's cycle collector once it has started."""

import gc
import logging

log = logging.getLogger("cody.heap")


def settle_heap() -> int:
    """Collect what start-up left, then freeze the rest; how many objects are frozen.

    A full pass of the cycle collector walks every object the process holds: in a server, some 210,000 made at
    start-up (modules, routes, the ORM's mappers, phone metadata) that live as long as it does, 0.1-0.25 s a pass on
    this project's machines, added to whichever request is running. Frozen, they are no longer walked, and a pass
    costs what the requests since left behind (docs/PERFORMANCE.md, "Pauses of the cycle collector").
    """
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("Heap settled: %s objects from start-up are left out of the cycle collector's passes", f"{frozen:,}")
    return frozen
