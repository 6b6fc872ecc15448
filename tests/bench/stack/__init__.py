"""The full-stack benchmark's server side: settings, the peer endpoints, the data."""
