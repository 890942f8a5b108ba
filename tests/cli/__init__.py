"""The `nanobanana` command (plan, generate, review, verify, prune, doctor) as a real subprocess."""
