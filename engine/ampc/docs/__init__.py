"""The docs site, generated from the rules by an mkdocs hook."""
