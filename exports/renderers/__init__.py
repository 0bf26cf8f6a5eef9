"""Renderers turn any exporter's columns and rows into a file, streamed chunk by chunk."""

from exports.renderers.csv import CsvRenderer
from exports.renderers.xlsx import XlsxRenderer

RENDERERS = {"csv": CsvRenderer, "xlsx": XlsxRenderer}
