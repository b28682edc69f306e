"""Cohorts: run `plan`, `score` or `demo` for many cases from a CSV, in parallel, with one summary CSV."""

from .cases import BatchCase, CasesError, read_cases
from .runner import BatchResult, run_batch

__all__ = ["BatchCase", "BatchResult", "CasesError", "read_cases", "run_batch"]
