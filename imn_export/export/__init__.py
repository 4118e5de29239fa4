"""Export the IMN graphs to ONNX, Core ML and TFLite bundles (``imn-export``)."""
