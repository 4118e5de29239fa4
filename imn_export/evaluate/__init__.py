"""Evaluation, one package: the hiding network on face pairs through an 8-bit PNG (``hiding``),
identity privacy of the Masks (``privacy``), keyed and sealed attacks (``keys``, ``sealed``),
whole photos through the SDK (``photos``, ``photo_bench``), and bundle graph timings
(``graph_bench``)."""
