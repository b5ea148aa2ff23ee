"""The admin services, one per concern: FAQ entries, lexicon, model lifecycle, insights and
audit (together the Knowledge gRPC service), maker-checker proposals, and operations."""
