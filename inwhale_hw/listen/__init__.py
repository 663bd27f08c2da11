"""The listening page: original, decoded and residual players, spectrograms and metrics.

:func:`build_listening_page` runs every codec on every input and writes a self-contained,
offline ``index.html`` with its WAVs and pictures (see :mod:`.build` for the layout).
"""

from .build import PageInput, build_listening_page

__all__ = ["PageInput", "build_listening_page"]
