// API.md › media: HTTP bodies and replies (filled in by the media service's work).
export {}
