"""glute: cited answers about gluteus medius pain and the exercises that rehabilitate it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .answer import Answer, Citation

if TYPE_CHECKING:
    from .pipeline import Assistant

__all__ = ["Answer", "Assistant", "Citation"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """Import the heavy pipeline only when `Assistant` is first used, so `glute --help` stays instant."""
    if name == "Assistant":
        from .pipeline import Assistant

        return Assistant
    raise AttributeError(name)
