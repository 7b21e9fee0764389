// API.md › chat: HTTP bodies and replies (filled in by the chat service's work).
export {}
