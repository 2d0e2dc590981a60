"""Database: engine, unit of work, declarative base shared by every domain's models."""
