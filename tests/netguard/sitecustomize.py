"""Network guard for child processes of the test suite (see netguard.py)."""

try:
    import netguard as _netguard

    _netguard.install_from_env()
except Exception as _e:  # a broken guard must not pass silently
    import sys

    print(f"netguard: failed to install: {_e}", file=sys.stderr)
    raise
