"""The ``nanobanana`` command: plan, generate, review, prune, verify (commands) and
doctor's checks (doctor).

May import: everything.
"""

from .commands import main

__all__ = ["main"]
