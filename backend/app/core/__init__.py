"""Settings, security, logging and quality metrics."""
