"""Fast tests of store/: the content-addressed cache on disk."""
