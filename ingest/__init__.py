"""Getting data in: tenants, plant metadata YAML, CSV import, bulk loading, demo data."""
