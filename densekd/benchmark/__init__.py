"""The method table as a measuring instrument: suites, seeds, caching, results files, speed."""
from .suite import Suite, code_version, load_suite  # noqa: F401
