"""Inventory: env.d skeletons + user config -> containers, groups and addresses (pure)."""
