// API.md › social: HTTP bodies and replies (filled in by the social service's work).
export {}
