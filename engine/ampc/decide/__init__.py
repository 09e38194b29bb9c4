"""Deciding: the durable-rules adapter, the explainer, the decider, and the one pipeline from rows to records."""
