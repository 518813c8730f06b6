"""SME Server's configuration: the e-smith databases and a typed view of what we need."""
