"""Talking to Cody through the chat API, as the web page does."""

import httpx


def say(chat: httpx.Client, text: str, conversation_id: str | None = None) -> dict:
    """One turn: Cody's answer (reply, drafts, question), which must be a 200."""
    response = chat.post("/api/chat/messages", json={"text": text, "conversation_id": conversation_id})
    assert response.status_code == 200, response.text
    return response.json()
