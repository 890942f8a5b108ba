"""Real builds through the hosts: hosts/mkdocs (MkDocs and ProperDocs) and hosts/markdown (Zensical)."""
