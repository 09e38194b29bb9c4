"""The typed decision record, its JSON and JSON Schema, and verify."""
