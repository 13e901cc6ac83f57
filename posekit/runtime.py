"""The one interface between posekit and an inference engine: ``run(inputs) -> outputs``.

Models never touch the engine directly, so tests can pass a fake runtime and a GPU or
onnxruntime backend can slot in behind the same method.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from posekit.errors import ModelError

logger = logging.getLogger(__name__)


class Runtime(Protocol):
    """Runs one model: a list of input arrays in, a list of output arrays out, in the
    model's own tensor order."""

    input_shapes: list[tuple[int, ...]]

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]: ...


class LiteRTRuntime:
    """A ``.tflite`` model on the CPU through ai-edge-litert (XNNPACK)."""

    def __init__(self, model_path: str | Path, num_threads: int = 2) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelError("ai-edge-litert is not installed; `pip install ai-edge-litert`") from exc
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        try:
            with native_stderr_silenced(unless_debug=logger):
                self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path.name}: cannot load in ai-edge-litert: {exc}") from exc
        self._inputs = self._interpreter.get_input_details()
        # Outputs ordered by tensor name (Identity, Identity_1, ...) so callers index them
        # the way the model was exported, not by the interpreter's internal order.
        self._outputs = sorted(self._interpreter.get_output_details(), key=lambda d: _tensor_order(d["name"]))
        self.input_shapes = [tuple(int(v) for v in d["shape"]) for d in self._inputs]
        self.input_dtypes = [np.dtype(d["dtype"]) for d in self._inputs]
        self.name = path.name
        logger.debug("loaded %s (%d threads) inputs %s", path.name, num_threads, self.input_shapes)

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for detail, array in zip(self._inputs, inputs, strict=True):
            self._interpreter.set_tensor(detail["index"], np.ascontiguousarray(array, dtype=detail["dtype"]))
        self._interpreter.invoke()
        return [self._interpreter.get_tensor(d["index"]) for d in self._outputs]


def _tensor_order(name: str) -> tuple[str, int]:
    base, _, suffix = name.rpartition("_")
    if suffix.isdigit():
        return (base, int(suffix))
    return (name, -1)


@contextlib.contextmanager
def native_stderr_silenced(unless_debug: logging.Logger) -> Iterator[None]:
    """Sends what native code writes to the process's stderr to /dev/null for the block.

    LiteRT prints an INFO banner from C++ when it creates its CPU delegate; no log-level setting
    reaches it, so the file descriptor itself is redirected. Nothing is silenced when
    ``unless_debug`` logs debug messages (``posekit -v``).
    """
    if unless_debug.isEnabledFor(logging.DEBUG):
        yield
        return
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr (pytest capture, notebooks)
        stderr_fd = 2
    sys.stderr.flush()
    saved = os.dup(stderr_fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), stderr_fd)
            try:
                yield
            finally:
                os.dup2(saved, stderr_fd)
    finally:
        os.close(saved)
