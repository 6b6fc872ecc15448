"""Chat: rooms, their members and messages, over REST and `/ws/chat/{room_id}/`."""
