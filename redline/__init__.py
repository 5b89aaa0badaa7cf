"""Redline: watch news articles, keep every distinct version, show exactly what changed."""

__version__ = "0.1.0"
