"""A test-only app whose models exercise the core layer like a feature app would."""
