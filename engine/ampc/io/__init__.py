"""Reading catalogs, and the renderers of records: table, text, JSON."""
