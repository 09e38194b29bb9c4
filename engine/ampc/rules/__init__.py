"""The rule set: YAML read with line numbers, its shape checked, built into frozen data; units and formulas."""
