"""The Kafka ingestor: the inbound topic, through admission, into the write model."""
