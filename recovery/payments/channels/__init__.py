"""The channels customers pay through besides the bank: partner agents (signed API, deposits, limits,
suspension), prepaid cards, kiosks and the counter, with their pages, API and commands."""
