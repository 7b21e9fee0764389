// API.md › search: HTTP bodies and replies (filled in by the search service's work).
export {}
