"""Fast tests of providers/ that need no server: the offline placeholder renderer."""
