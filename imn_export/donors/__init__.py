"""The face prior behind Masks v2: donors of nobody, sampled from a statistical appearance model
of the synthetic training faces (no training image ships; sdk/spec/bundle.md, "donors")."""
