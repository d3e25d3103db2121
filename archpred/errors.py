"""Exceptions with messages meant to be shown to a user as they are."""

from __future__ import annotations


class ArchpredError(Exception):
    """Base class: the CLI prints ``str(error)`` on one line and exits with code 2."""


class InvalidArchitecture(ArchpredError, ValueError):
    """An architecture that breaks a rule of its search space; the message names the rule."""


class DataNotFound(ArchpredError, FileNotFoundError):
    """A benchmark file that is not where it is expected; the message says where and how to get it."""


class CheckpointError(ArchpredError, ValueError):
    """A checkpoint or model file that is corrupt, foreign or of another version."""


class NotFittedError(ArchpredError, RuntimeError):
    """``predict`` (or similar) called before ``fit``."""


class InvalidOption(ArchpredError, ValueError):
    """An option that cannot be honoured (an unknown device, an impossible size, ...)."""


class InvalidData(ArchpredError, ValueError):
    """A data file that is not what it should be: another format, another kind of file, a folder,
    or records missing what the loader needs; the message names the file."""


class TrainingDiverged(ArchpredError, RuntimeError):
    """Training whose loss became NaN or infinite: stopped before anything of it was saved."""
