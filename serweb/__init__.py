"""SERWEB, the web interface."""
