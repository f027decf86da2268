"""Giving freed memory back to the system, so that a pull's peak is not its own leftovers.

Allocators keep freed memory for reuse: Arrow's pool after a pull's tables are gone, and
glibc's heap after numpy frees arrays in its middle. Both are asked to let it go where a
pull is done with a lot at once. Elsewhere (not glibc) trimming the heap does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache

import pyarrow as pa

__all__ = ["give_back_arrow", "trim_heap"]


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only (not musl)
    except (OSError, AttributeError):
        return None
    return trim


def trim_heap() -> None:
    """Return the free memory of the C heap to the system (glibc ``malloc_trim``)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def give_back_arrow() -> None:
    """Return the memory Arrow's pool keeps after its buffers are freed."""
    pa.default_memory_pool().release_unused()
