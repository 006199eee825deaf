"""Personal data: fields sealed in events with per-person keys (crypto-shredding), the
published key bucket, erasure, subject access and retention in each service and across
all of them, over the database or the services' HTTP APIs.
"""
