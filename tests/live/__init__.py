"""Live generation through real builds against the fake API (tests/fakeapi.py): what is paid for, retried, kept."""
