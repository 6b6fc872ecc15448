"""Standing security suites: the access matrix and the schema-driven fuzzing."""
