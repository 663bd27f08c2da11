"""Typed errors raised by inwhale_hw.

Every error names the offending value and what is allowed instead.  All derive from
:class:`InwhaleError`, so callers (and the CLI, which prints one line and exits non-zero)
can catch the whole family; most also derive from the matching built-in exception so
that ``except ValueError`` keeps working for code that does not know this package.
"""

from __future__ import annotations

__all__ = [
    "InwhaleError",
    "ParameterError",
    "InputError",
    "FixedPointOverflowError",
    "WidthLimitError",
    "UnknownQuantizerError",
    "DuplicateQuantizerError",
    "PluginLoadError",
    "AudioFormatError",
    "UnsupportedError",
    "ToolNotFoundError",
    "ModelError",
    "VerificationError",
    "OutputError",
    "PluginOutputError",
    "SignalExit",
]


class InwhaleError(Exception):
    """Base class of every error this package raises on purpose."""


class ParameterError(InwhaleError, ValueError):
    """A constructor or function parameter has a value outside what is allowed."""


class InputError(InwhaleError, ValueError):
    """An input array has the wrong dtype, shape, or contains NaN/inf or out-of-range values."""


class FixedPointOverflowError(InwhaleError, OverflowError):
    """Values did not fit a fixed-point format under ``Overflow.ERROR``.

    Attributes ``count`` (how many values overflowed) and ``first_index`` (the flat index of
    the first one) are set so callers can report or locate the problem.
    """

    def __init__(self, message: str, count: int = 0, first_index: int | None = None):
        super().__init__(message)
        self.count = count
        self.first_index = first_index


class WidthLimitError(InwhaleError, OverflowError):
    """A format or an exact result needs more bits than int64 raw storage provides."""


class UnknownQuantizerError(InwhaleError, LookupError):
    """No quantizer with that name is registered."""

    def __str__(self) -> str:  # LookupError/KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DuplicateQuantizerError(InwhaleError, ValueError):
    """Two plugins registered the same quantizer name or alias."""


class PluginLoadError(InwhaleError):
    """A plugin failed to import or register (raised only in strict mode)."""


class AudioFormatError(InwhaleError, ValueError):
    """A file is not audio, is empty, truncated, or uses an unsupported container or subtype."""


class UnsupportedError(InwhaleError, NotImplementedError):
    """The quantizer or tool does not offer the requested capability."""


class ToolNotFoundError(InwhaleError, FileNotFoundError):
    """An external program (iverilog, yosys, sox, ffmpeg, chromium) is not installed."""


class ModelError(InwhaleError, ValueError):
    """An ONNX model uses an operator or attribute that the simulator does not support."""


class VerificationError(InwhaleError, AssertionError):
    """A hardware model disagreed with its golden model."""


class OutputError(InwhaleError, OSError):
    """An output cannot be written: missing directory, permission, disk full.  Names the user's path."""

    def __str__(self) -> str:  # OSError would format (errno, strerror) pairs
        return str(self.args[0]) if self.args else ""


class PluginOutputError(InwhaleError, ValueError):
    """A plugin's encode/decode returned something its declared contract does not allow."""


class SignalExit(SystemExit):
    """Raised by the CLI's SIGTERM/SIGINT handler (exit status ``128 + signal``).

    Not an :class:`InwhaleError`: nothing may swallow it, not even the plugin host, which
    otherwise records a plugin's own ``SystemExit`` as a load failure.
    """
