"""The network's directory: organisations, services, locations, contact points, taxonomy.

Also its upkeep (audit, visibility) and its formats (JSONL import/export, CSV, HSDS 3.1).
"""
