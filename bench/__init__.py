"""Benchmarks: `make bench`. Bounded in time; figures are indicative on a shared machine."""
