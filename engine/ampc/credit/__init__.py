"""The credit: a sales ledger to the Form 7207 worksheet, and its renderers."""
