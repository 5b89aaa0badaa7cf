"""Redline benchmark (issue 6): run with ``python -m bench``."""
