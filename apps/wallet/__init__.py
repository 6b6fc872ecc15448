"""The wallet: a double-entry ledger, provider top-ups, transfers and order payments."""
