"""archpred: neural-architecture performance prediction and exploration."""

from archpred.data import Benchmark, load_benchmark
from archpred.errors import ArchpredError, CheckpointError, DataNotFound, InvalidArchitecture, NotFittedError
from archpred.spaces import get_space

__version__ = "0.1.0"

__all__ = [
    "ArchpredError",
    "Benchmark",
    "CheckpointError",
    "DataNotFound",
    "InvalidArchitecture",
    "NotFittedError",
    "get_space",
    "load_benchmark",
]
