"""Events between services on NATS JetStream: the outbox relay that publishes committed
events, the streams, the durable pull consumers that record and apply other services'
events, and the dead letters they park.
"""
