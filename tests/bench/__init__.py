"""Benchmarks run by `make bench` (marked `bench`, left out of `make test`)."""
