"""The router: twinteller's public gRPC front door."""
