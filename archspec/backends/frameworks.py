"""Which pip extra installs which framework: a missing one is an install step, not a bug.

``pip install -e ".[torch]"`` and then ``--backend keras`` must say what to install, with exit 1,
never "internal error: No module named 'keras'". Import-free, so any command can use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from archspec.backends import BackendError

# Top-level module -> (what users call it, the extra that installs it; None: the backend's own).
MODULES: dict[str, tuple[str, str | None]] = {
    "tensorflow": ("TensorFlow", "keras"),
    "keras": ("TensorFlow", "keras"),
    "torch": ("PyTorch", "torch"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "numpy": ("numpy", None),
    "rich": ("rich", "all"),
}


def missing_framework(err: BaseException, backend: str | None = None) -> str | None:
    """``the keras backend needs TensorFlow: pip install "archspec[keras]"`` for an import
    error of a framework; None for anything else (a real bug stays reported as one)."""
    if not isinstance(err, ModuleNotFoundError) or not err.name:
        return None
    found = MODULES.get(err.name.split(".")[0])
    if found is None:
        return None
    what, extra = found
    extra = extra or backend or "all"
    who = f"the {backend} backend" if backend else "this command"
    return f'{who} needs {what}: pip install "archspec[{extra}]"'


@contextlib.contextmanager
def framework_needed(backend: str | None) -> Iterator[None]:
    """Turn a missing framework inside the block into a BackendError that says what to install."""
    try:
        yield
    except ModuleNotFoundError as err:
        message = missing_framework(err, backend)
        if message is None:
            raise
        raise BackendError(message) from err
