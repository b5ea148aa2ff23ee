"""The knowledge base as data: the FAQ schema and snapshots, editable FAQ records and their
files, the lexicon, text normalisation, masking of sensitive values, and the records of what
customers ask (turn counts, the insights document)."""
