"""Officer pages: server-rendered, bilingual, usable on a phone."""
