"""The repository's own promises: the layer rule, the public surface, README's fake API recipe, the bench."""
