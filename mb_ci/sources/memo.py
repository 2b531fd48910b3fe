"""Compute a value once per key, even when many threads ask for it at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    """Compute each key once; concurrent callers of the same key wait for the first one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Hashable, Future[Any]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as e:
                with self._lock:
                    self._futures.pop(key, None)  # a failure is not cached
                future.set_exception(e)
        result: T = future.result()
        return result

    def drop(self, key: Hashable) -> None:
        with self._lock:
            self._futures.pop(key, None)
