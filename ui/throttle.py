"""Slowing down password guessing: a growing delay per client address, then a refusal while failures are recent.

Policy: each login attempt from an address counts as a failure from the moment it starts (so parallel guesses
do not all go through at the first try's speed) until it succeeds, which clears the address. With k failures
in the last `window_s` seconds, the next attempt waits `delay_s * 2**(k-1)` seconds (at most `max_delay_s`)
before its password is checked; with `max_failures` of them it is refused unchecked until the oldest leaves
the window. Refused attempts are not counted, so a lock lasts at most one window after the last checked
failure. Only the guessing address is slowed: the real user on another address is never locked out.

Pure: no clock of its own (one is passed in), no I/O, no web framework.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """Failed-login bookkeeping per client address over a sliding window."""

    def __init__(
        self,
        *,
        delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        max_failures: int = 10,
        window_s: float = 900.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delay_s = delay_s
        self.max_delay_s = max_delay_s
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def delay(self, client: str) -> float | None:
        """Seconds the next attempt from this address waits before its check, or None: refused unchecked."""
        with self._lock:
            return self._delay_for(len(self._recent(client)))

    def begin(self, client: str) -> float | None:
        """Start an attempt: its delay (as `delay`), counting it as a failure until `succeeded`. None: refused,
        and not counted."""
        with self._lock:
            recent = self._recent(client)
            wait = self._delay_for(len(recent))
            if wait is not None:
                self._record(client, recent)
            return wait

    def failed(self, client: str) -> None:
        """Count one failure for this address (what `begin` does, without asking for the delay)."""
        with self._lock:
            self._record(client, self._recent(client))

    def succeeded(self, client: str) -> None:
        """The right password: forget this address's failures."""
        with self._lock:
            self._failures.pop(client, None)

    def retry_after(self, client: str) -> float:
        """Seconds until this address may try again (0 when it may now)."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self.max_failures:
                return 0.0
            return max(0.0, recent[len(recent) - self.max_failures] + self.window_s - self.clock())

    def tracked(self) -> int:
        """How many addresses the table holds (it is pruned as it grows)."""
        return len(self._failures)

    def _delay_for(self, failures: int) -> float | None:
        if failures >= self.max_failures:
            return None
        if failures == 0:
            return 0.0
        return min(self.delay_s * 2 ** (failures - 1), self.max_delay_s)

    def _recent(self, client: str) -> deque[float]:
        """This address's failures still inside the window (older ones dropped)."""
        times = self._failures.get(client)
        if times is None:
            return deque()
        horizon = self.clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        return times

    def _record(self, client: str, recent: deque[float]) -> None:
        recent.append(self.clock())
        self._failures[client] = recent
        if len(self._failures) > self.max_clients:
            self._prune()

    def _prune(self) -> None:
        """Drop addresses with no failure in the window; if still too many, the longest quiet ones."""
        horizon = self.clock() - self.window_s
        self._failures = {c: t for c, t in self._failures.items() if t and t[-1] > horizon}
        excess = len(self._failures) - self.max_clients
        if excess > 0:
            for client in sorted(self._failures, key=lambda c: self._failures[c][-1])[:excess]:
                del self._failures[client]
