"""Fast tests of cards/: a social card drawn, keyed and described without a build."""
