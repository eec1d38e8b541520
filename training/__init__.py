"""Training and calibration of docqa's reader (not part of the installed package)."""
