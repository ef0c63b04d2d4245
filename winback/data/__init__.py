"""The data contract (SQLAlchemy schema), database access, the demo shop generator and importers."""
