"""Management commands of the core layer: seed, sync_features."""
