"""The governed metrics layer: measures, dimensions and windows defined once (catalog.toml), a structured
query (MetricQuery) filled by slots or by the model under a JSON schema, compiled to SQL by code for
SQLite and PostgreSQL and run through the guarded reader."""

from winback.data.metrics.catalog import Catalog, CatalogError, Dimension, Measure, load_catalog
from winback.data.metrics.query import Filter, MetricQuery, Window, metric_query_schema
from winback.data.metrics.run import MetricResult, MetricRow, known_values, run_metric
from winback.data.metrics.windows import Span, resolve

__all__ = [
    "Catalog",
    "CatalogError",
    "Dimension",
    "Filter",
    "Measure",
    "MetricQuery",
    "MetricResult",
    "MetricRow",
    "Span",
    "Window",
    "known_values",
    "load_catalog",
    "metric_query_schema",
    "resolve",
    "run_metric",
]
