"""The public API (Assistant) and what every service shares at the gRPC boundary: request
validation, errors -> status codes, per-client limits, admin authentication."""
