"""Redline's versioned store: identity, normalization, versions, events and diffs.

This package never imports scrapy, twisted or trafilatura: it receives plain
dataclasses (see :mod:`archive.capture`) and can be used by view commands
without loading any crawler code.
"""
