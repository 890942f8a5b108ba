"""Fast tests of imaging/: resized copies and the <picture> markup."""
