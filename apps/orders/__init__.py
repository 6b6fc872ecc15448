"""Orders: checkout that never oversells, a status flow, exports."""
