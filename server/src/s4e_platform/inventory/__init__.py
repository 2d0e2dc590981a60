"""What scans observe on assets: services (open ports and what answers on them)."""
