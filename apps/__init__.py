"""Project applications: `core` (the base layer) and the feature apps built on it."""
