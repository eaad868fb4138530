"""Benchmarks of the provider: ``python -m bench`` (see ``bench/__main__.py``)."""
