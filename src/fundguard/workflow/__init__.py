"""疑点 workflow: accounts and roles, items, transitions, audit log (relational database).

Importing the package registers the per-action permissions (``items.<action>``) from the transition table.
"""

from fundguard.workflow import transitions as _transitions  # noqa: F401
