"""The pure core: contracts, decisions, identity, the registry view a batch works on. No I/O."""
