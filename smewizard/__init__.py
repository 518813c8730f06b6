"""smewizard: guided email authentication for Koozali SME Server v10."""

__version__ = "0.1.0"
