"""Failures the CLI turns into one clear sentence instead of a traceback."""


class StackError(Exception):
    """The stack could not do what was asked; the message says why and what to do."""


class MissingPrerequisite(StackError):
    """A program the stack needs is not installed; the message says what to install."""
