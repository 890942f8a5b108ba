"""Fast, pure tests of core/: values, directive parsing, settings, the catalog (no MkDocs, no server, no subprocess)."""
