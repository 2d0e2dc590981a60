"""Domain-free building blocks: ids, time, crypto, pagination, network safety."""
