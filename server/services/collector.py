"""Hold the cyclic garbage collector off while a push batch builds its records.

A 500-op batch makes tens of thousands of objects that live until its commit (ORM states,
rows, audit events), so the collector's collections keep walking them and finding nothing to
free: 1-3 % of a push's CPU (bench/README.md, ninth session). Reference counting still frees
what a batch drops; whatever cycles it leaves are collected once the last paused request ends
and the collector runs again.
"""
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Keep the collector off until every request that paused it has finished."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
