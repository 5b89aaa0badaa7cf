"""Redline's Scrapy project: turns URLs into captured, extracted articles."""
