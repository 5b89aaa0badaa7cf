"""Spiders: one module per way of finding articles."""
