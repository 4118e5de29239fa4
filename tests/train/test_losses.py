import pytest
import torch

from imn_export.train.losses import (LossWeights, distillation_loss, embedding_loss,
                                     low_frequency_loss, quantize_8bit, recovering_loss, total_loss)


def test_embedding_and_recovering_are_mse():
    a, b = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.5)
    assert embedding_loss(a, a) == 0 and recovering_loss(b, b) == 0
    assert embedding_loss(a, b).item() == pytest.approx(0.25)
    assert recovering_loss(a, b).item() == pytest.approx(0.25)


def test_low_frequency_loss_ignores_high_frequencies_only():
    base = torch.rand(1, 3, 8, 8)
    board = ((torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2).float() * 0.1
    assert low_frequency_loss(base + board - 0.05, base).item() == pytest.approx(0.0, abs=1e-12)
    assert low_frequency_loss(base + 0.1, base).item() == pytest.approx(4 * 0.01, rel=1e-5)


def test_quantize_8bit_rounds_straight_through_but_clips_for_real():
    x = torch.tensor([-0.2, 0.1234, 0.5, 1.3], requires_grad=True)
    q = quantize_8bit(x)
    assert torch.allclose(q, torch.tensor([0.0, round(0.1234 * 255) / 255, 128 / 255, 1.0]))
    q.sum().backward()
    assert torch.equal(x.grad, torch.tensor([0.0, 1.0, 1.0, 0.0]))


def test_total_loss_weights_each_term():
    terms = {"embedding": torch.tensor(1.0), "recovering": torch.tensor(10.0),
             "low_frequency": torch.tensor(100.0)}
    assert total_loss(terms, LossWeights(1, 3, 1)).item() == pytest.approx(131.0)
    assert total_loss(terms, LossWeights(0, 0, 2)).item() == pytest.approx(200.0)


@pytest.mark.parametrize("text", ["1:3", "a:b:c", "1:-1:1", "0:0:0", ""])
def test_ratio_parse_rejects_bad_text(text):
    with pytest.raises(ValueError, match="1:3:1"):
        LossWeights.parse(text)


def test_ratio_parse_and_label():
    w = LossWeights.parse("1:2.5:1")
    assert (w.embedding, w.recovering, w.low_frequency) == (1, 2.5, 1)
    assert w.label() == "1:2.5:1"


def test_embedding_ssim_share_punishes_noise_in_flat_regions_more():
    torch.manual_seed(0)
    flat = torch.full((1, 3, 32, 32), 0.5)
    textured = torch.rand(1, 3, 32, 32)
    noise = 0.01 * torch.randn(1, 3, 32, 32)
    for image in (flat, textured):
        assert embedding_loss(image + noise, image, 0.0).item() == pytest.approx(noise.pow(2).mean().item())
    extra_flat = embedding_loss(flat + noise, flat, 0.01) - embedding_loss(flat + noise, flat)
    extra_textured = embedding_loss(textured + noise, textured, 0.01) - embedding_loss(textured + noise, textured)
    assert extra_flat > 5 * extra_textured > 0


def test_ssim_share_keeps_the_ratio_and_rejects_negative():
    w = LossWeights.parse("1:3:1").with_ssim(0.01)
    assert (w.embedding, w.recovering, w.low_frequency, w.embedding_ssim) == (1, 3, 1, 0.01)
    with pytest.raises(ValueError, match="SSIM"):
        w.with_ssim(-1)


def test_distillation_loss_is_zero_only_for_the_teacher():
    teacher = torch.nn.functional.normalize(torch.randn(6, 16), dim=1)
    assert float(distillation_loss(teacher, teacher, 1.0)) == pytest.approx(0, abs=1e-6)
    assert float(distillation_loss(teacher.roll(1, 0), teacher, 1.0)) > 0.1
