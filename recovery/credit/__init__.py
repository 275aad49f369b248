"""Credit: ratings, qualification review, deposits, guarantees and settlement terms."""
