"""疑点 workflow: accounts and roles, items, transitions, audit log (relational database)."""
