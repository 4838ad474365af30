"""Trợ lý ISO core: knowledge, Vietnamese search, storage, dialogue and CLI (no Telegram imports)."""

__version__ = "0.1.0"
