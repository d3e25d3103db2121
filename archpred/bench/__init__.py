"""Benchmarks and paper reproductions behind ``python -m archpred bench NAME``."""
