"""Benchmarks on real news (issue 6): `python -m bench.run [--quick]`, or `make bench`."""
