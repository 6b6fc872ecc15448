"""The base layer every feature app builds on."""
