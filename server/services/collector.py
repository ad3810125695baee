"""Hold the cyclic garbage collector off while a push batch builds its records.

A 500-op batch makes tens of thousands of objects that live until its commit (ORM states,
rows, audit events), so the collector's collections keep walking them and finding nothing to
free: 1-3 % of a push's CPU (bench/README.md, ninth session). Reference counting still frees
what a batch drops; whatever cycles it leaves are collected once the last paused request ends
and the collector runs again. Pushes that keep overlapping (every village on the 17th) would
keep it off for good, so a request that leaves after it has been off for `MAX_OFF_S` collects.
"""
import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_OFF_S = 30.0
_lock = threading.Lock()
_holders = 0
_was_enabled = False
_off_since = 0.0


@contextmanager
def paused() -> Iterator[None]:
    """Keep the collector off until every request that paused it has finished."""
    global _holders, _was_enabled, _off_since
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            _off_since = time.monotonic()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
            elif _was_enabled and time.monotonic() - _off_since > MAX_OFF_S:
                _off_since = time.monotonic()
                gc.collect()
