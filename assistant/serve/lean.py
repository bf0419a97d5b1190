"""What `glute serve` keeps out of its memory that Gradio would load for nothing. Importing this module applies it
(`app.py` does); applying it twice changes nothing.

Gradio wraps every event it processes in `gradio.utils.MatplotlibBackendMananger` (sic), which imports matplotlib
to pin its "agg" backend while the event runs, in case the event draws a plot. glute's events draw none, and that
import made the server's first answer cost about 25 MB of resident memory (matplotlib, fontTools, kiwisolver,
dateutil, ...) for as long as the server runs. Here the manager does Gradio's work only when matplotlib is already
imported in the process (something else uses it, e.g. a test session that also draws the eval plots); otherwise it
does nothing, and matplotlib stays unimported.
"""

from __future__ import annotations

import contextlib
import sys

import gradio.utils

_NAME = "MatplotlibBackendMananger"  # Gradio's spelling; gradio.route_utils looks it up on gradio.utils per event


def _backend_manager_only_when_loaded(gradio_manager: type):
    def manager():
        return gradio_manager() if "matplotlib" in sys.modules else contextlib.nullcontext()

    manager.wraps = gradio_manager
    return manager


def skip_matplotlib_when_unused() -> bool:
    """Replace Gradio's per-event manager (once); False when this Gradio has no such manager to replace."""
    current = getattr(gradio.utils, _NAME, None)
    if current is None:
        return False
    if not hasattr(current, "wraps"):
        setattr(gradio.utils, _NAME, _backend_manager_only_when_loaded(current))
    return True


skip_matplotlib_when_unused()
