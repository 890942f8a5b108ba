"""The test suite; tests/README.md maps its folders. Helpers are in tests/support/, fixtures in tests/conftest.py."""
