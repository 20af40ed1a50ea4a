"""Errors a user can cause and fix: the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class KerazooError(Exception):
    """Base class of every error caused by input a user controls (names, files, config keys)."""


class NotFoundError(KerazooError, KeyError):
    """A name that is not registered (a model, a layer, a recipe, a preset)."""

    # KeyError.__str__ wraps the message in quotes; a user should read the sentence itself.
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(KerazooError, ValueError):
    """An invalid configuration key or value."""


class DataError(KerazooError, ValueError):
    """Unreadable, malformed or inconsistent input data."""


class TrainingDivergedError(KerazooError, ArithmeticError):
    """Training produced a NaN or infinite loss: nothing is evaluated, exported or published."""
