"""The fleet audit: targets, rows, filters, merged shards, and its reports.

Nothing is imported here, so `import mb_ci.audit.model` stays light.
"""
