"""Benchmarks: the API beside a bare Django baseline, in one run.

Not tests: nothing here runs under ``make test``. ``make bench`` runs ``bench/run.py``;
see its docstring for what is measured and how.
"""
