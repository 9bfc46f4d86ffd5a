"""Start-up and exit of a short command-line process (``archspec check``).

A fresh ``archspec check`` spends most of its time starting Python and importing pydantic and
the op table, and a fifth ending the interpreter. What this module trims, measured in
bench/README.md:

- The cyclic garbage collector is paused while modules are imported: imports allocate tens of
  thousands of long-lived objects (classes, functions, pydantic schemas), and each collection
  triggered on the way walks them all again and frees nothing.
- pydantic looks for plugins when it builds its first validator: it imports
  ``importlib.metadata`` (with email and zipfile) and reads the entry points of every installed
  package. A command-line check has no use for plugins, so a quick command tells pydantic there
  are none before it looks (unless the user set ``PYDANTIC_DISABLE_PLUGINS``, pydantic's own
  switch, to choose some).
- Once the output is flushed, a quick command ends with ``os._exit``: the interpreter's final
  clean-up (freeing every module and object, a last collection) changes nothing anyone sees.

Only the console script and ``python -m archspec`` use this: ``main(argv)`` called from Python
leaves the caller's process alone.
"""

from __future__ import annotations

import gc
import os
import sys
import types

PLUGINS_SWITCH = "PYDANTIC_DISABLE_PLUGINS"
# NOTE: the module pydantic (2.x) imports `get_plugins` from when it builds a validator; it is
# imported on first use only, so an entry placed first is the one pydantic finds.
PLUGIN_LOADER = "pydantic.plugin._loader"


def begin() -> None:
    """Pause the collector for the imports that follow (``settle`` or the exit resumes it)."""
    gc.disable()


def settle(quick: bool) -> None:
    """Called once the command is chosen. A quick command keeps the collector paused (the
    process ends in milliseconds; reference counting frees its acyclic garbage) and skips
    pydantic's plugin scan; a long one gets the collector back, with everything imported so
    far frozen out of its way."""
    if quick:
        if PLUGINS_SWITCH not in os.environ and PLUGIN_LOADER not in sys.modules:
            sys.modules[PLUGIN_LOADER] = _no_plugins()
        return
    gc.freeze()
    gc.enable()


def end_now(status: int) -> None:
    """Flush the output and end the process with ``status``, skipping the interpreter's
    clean-up (nothing a quick command leaves needs it: its files are closed and renamed)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that has gone, or a closed stream
            status = status or 1
    os._exit(status)


def _no_plugins() -> types.ModuleType:
    """A stand-in for pydantic's plugin loader that finds no plugins without looking."""
    loader = types.ModuleType(PLUGIN_LOADER)
    loader.get_plugins = tuple  # type: ignore[attr-defined]  # () : no plugins
    return loader
