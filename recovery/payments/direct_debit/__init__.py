"""Direct debit (代扣): mandates, daily debit batches, the files exchanged with the bank (CSV, pain.008, the
results), posting, and their tables, pages, API and commands."""
