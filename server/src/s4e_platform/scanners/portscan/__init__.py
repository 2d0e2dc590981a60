"""`port_scan`: non-blocking TCP connect sweep, our own service probes, finding rules, nmap XML import."""
