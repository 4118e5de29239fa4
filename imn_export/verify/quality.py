"""Quality floors of the shipped hiding network, measured from the 8-bit PNG (one place).

``TARGETS`` are issue #2's floors for the first model. ``SHIPPED_FLOORS`` are what the shipped
weights are held to by the tests on fixed 16-image subsets: measured values rounded down, so a
regression fails the build. Where a floor sits below its target the target is not met yet; the
model card says by how much and why.
"""

TARGETS = {
    "recovered": {"psnr": 38.0, "ssim": 0.95},
    "masked": {"psnr": 36.0, "ssim": 0.95},
}

SHIPPED_FLOORS = {
    "val": {"recovered": {"psnr": 38.0, "ssim": 0.95}, "masked": {"psnr": 36.0, "ssim": 0.95}},
    # Measured on the first 16 real faces: recovered 37.51 dB / 0.9658, masked 37.18 dB / 0.9456.
    "real": {"recovered": {"psnr": 37.0, "ssim": 0.95}, "masked": {"psnr": 36.0, "ssim": 0.94}},
}
