"""Real `mkdocs build` and `mkdocs serve` runs of temporary sites, offline or against the fake API."""
