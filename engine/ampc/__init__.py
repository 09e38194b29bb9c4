"""ampc: Form 7207 (IRC 45X) rules as code; load -> validate -> compile -> run -> explain -> report."""

__version__ = "0.1.0"
