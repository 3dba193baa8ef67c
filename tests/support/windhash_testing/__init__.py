"""Test support, never shipped in the wheel: builders of synthetic facts and datasets, in-memory fakes of the
units of work. On pytest's path (pyproject's `pythonpath`) and mypy's."""
