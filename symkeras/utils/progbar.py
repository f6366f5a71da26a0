"""Progbar: Keras 2's progress bar (``60000/60000 [====...] - 3s 50us/step - loss: 0.2345``).

On a terminal (or in Jupyter) the bar is redrawn in place; written to a file
or a pipe it prints plain lines (at the end, and at most every
``log_interval`` seconds before that), so logs never fill with backspaces.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def dynamic_display(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules


def format_value(value) -> str:
    value = float(np.mean(value))
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


class Progbar:
    """``update(current, values)`` with (name, value) pairs; values are averaged over what has been seen,
    weighted by the step size, except ``stateful_metrics`` shown as they come."""

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None, stream=None,
                 log_interval=10.0):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.log_interval = log_interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.stream = stream if stream is not None else sys.stdout
        self._dynamic = dynamic_display(self.stream)
        self._total_width = 0
        self._seen_so_far = 0
        self._values: dict[str, list] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._last_line = self._start

    def update(self, current, values=None) -> None:
        for name, value in values or ():
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = value
            else:
                step = current - self._seen_so_far
                if name not in self._values:
                    self._values[name] = [value * step, step]
                else:
                    self._values[name][0] += value * step
                    self._values[name][1] += step
        self._seen_so_far = current
        now = time.time()
        finished = self.target is not None and current >= self.target
        if self.verbose == 1:
            if not finished and now - self._last_update < self.interval:
                return
            if not self._dynamic and not finished and now - self._last_line < self.log_interval:
                return
            self._draw(current, now, finished)
            self._last_update = now
        elif self.verbose == 2 and (self.target is None or finished):
            info = f" - {now - self._start:.0f}s" + self._metrics_text()
            self.stream.write(f"{info}\n" if self.target is None else f"{self._counter(current)}{info}\n")
            self.stream.flush()

    def add(self, n, values=None) -> None:
        self.update(self._seen_so_far + n, values)

    def _counter(self, current) -> str:
        digits = int(np.floor(np.log10(self.target))) + 1 if self.target else 1
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        progress = float(current) / self.target if self.target else 1.0
        filled = int(self.width * progress)
        bar = self._counter(current) + " ["
        if filled > 0:
            bar += "=" * (filled - 1) + (">" if current < self.target else "=")
        return bar + "." * (self.width - filled) + "]"

    def _metrics_text(self) -> str:
        text = ""
        for name in self._values_order:
            value = self._values[name]
            if isinstance(value, list):
                value = value[0] / max(1, value[1])
            text += f" - {name}:" + format_value(value)
        return text

    def _draw(self, current, now, finished) -> None:
        bar = self._bar(current)
        per_unit = (now - self._start) / current if current else 0.0
        if self.target is not None and not finished:
            eta = per_unit * (self.target - current)
            if eta > 3600:
                eta_text = f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
            elif eta > 60:
                eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}"
            else:
                eta_text = f"{int(eta)}s"
            info = f" - ETA: {eta_text}"
        else:
            info = f" - {now - self._start:.0f}s"
            if per_unit >= 1:
                info += f" {per_unit:.0f}s/step"
            elif per_unit >= 1e-3:
                info += f" {per_unit * 1e3:.0f}ms/step"
            else:
                info += f" {per_unit * 1e6:.0f}us/step"
        info += self._metrics_text()
        line = bar + info
        if self._dynamic:
            padding = " " * max(0, self._total_width - len(line))
            self.stream.write("\b" * self._total_width + "\r" + line + padding + ("\n" if finished else ""))
            self._total_width = 0 if finished else len(line)
        else:
            self.stream.write(line + "\n")
            self._last_line = now
        self.stream.flush()
