"""sofer-gateway: a typed gRPC gateway in front of the Sofer.ai batch-transcription REST API."""

__version__ = "0.1.0"
