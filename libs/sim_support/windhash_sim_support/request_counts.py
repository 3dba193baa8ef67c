"""How many requests a synthetic server answered, by endpoint (its `/_sim/stats`); counted from the server
thread and read by the test, hence the lock."""

import threading
from collections import Counter


class RequestCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: Counter[str] = Counter()

    def count(self, key: str) -> None:
        with self._lock:
            self._served[key] += 1

    def served(self) -> dict[str, int]:
        with self._lock:
            return dict(self._served)

    def clear(self) -> None:
        with self._lock:
            self._served.clear()
