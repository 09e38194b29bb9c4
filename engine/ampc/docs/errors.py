"""The one error of the docs: what cannot be generated, naming the rule, file or page and the fix."""


class DocsError(Exception):
    """The docs cannot be generated: names the rule, file or page and what to fix."""
