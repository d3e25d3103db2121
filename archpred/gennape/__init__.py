"""GENNAPE (Mills et al., AAAI 2023): accuracy of any network from its computation graph."""
