"""Storage backends shipped with Seatkeeper, each registered as an entry point."""
