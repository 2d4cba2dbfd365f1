"""Shared services: settings, databases, schema, metadata cache, query building."""
