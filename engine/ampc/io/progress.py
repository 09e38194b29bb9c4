"""Progress on long work, on stderr: a bar on a terminal (tqdm), a one-line status every few seconds
otherwise, nothing with --quiet; and the closing count: rows read = records + errors."""

from __future__ import annotations

import sys
import time

STATUS_EVERY = 10.0  # seconds between status lines when stderr is not a terminal


class Progress:
    def __init__(self, quiet: bool = False, what: str = "rows"):
        self.quiet, self.what = quiet, what
        self.rows = self.errors = 0
        self.started = self._last = time.monotonic()
        self._bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm
            self._bar = tqdm(unit=" rows", desc="deciding", file=sys.stderr, mininterval=0.5, leave=False)

    def count(self, is_error: bool) -> None:
        self.rows += 1
        self.errors += is_error
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(1)
        elif time.monotonic() - self._last >= STATUS_EVERY:
            self._last = time.monotonic()
            print(f"ampc: {self.rows:,} {self.what} decided ({self.rate():,.0f}/s), {self.errors:,} errors",
                  file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """A warning on stderr, above the bar if there is one (shown with --quiet too)."""
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.rows / elapsed if elapsed > 0 else 0.0

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self) -> str:
        decided = self.rows - self.errors
        return (f"{self.rows:,} {self.what} read = {decided:,} records + {self.errors:,} errors "
                f"in {time.monotonic() - self.started:,.1f} s")
