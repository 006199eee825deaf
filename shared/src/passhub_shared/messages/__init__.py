"""What services say to each other: typed events, the CloudEvents envelope every published
event travels in, and the AsyncAPI documents of what a service publishes and consumes.
The published bodies themselves are in `passhub_shared.contracts`.
"""
