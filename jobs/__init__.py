"""Scheduling and running crawls. Reaches the crawler only through a subprocess."""
