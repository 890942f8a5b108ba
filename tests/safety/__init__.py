"""Stops, kills and damaged caches: nothing paid for is lost, nothing not ours is touched."""
