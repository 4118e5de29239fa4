import torch

from imn_export.export.graphs import GRAPHS, Models, image_shape, sample_inputs
from imn_export.nn.hiding import HidingNetwork
from imn_export.nn.masknet import MaskNet, MaskNetConfig


def test_io_names_are_the_sdk_contract():
    assert GRAPHS["hide"].inputs == ("protected", "mask")
    assert GRAPHS["hide"].outputs == ("masked", "lost")
    assert GRAPHS["reveal"].inputs == ("masked", "aux")
    assert GRAPHS["reveal"].outputs == ("recovered", "mask_recovered")
    assert GRAPHS["masknet"].inputs == ("face", "identity")
    assert GRAPHS["masknet"].outputs == ("mask",)


def test_sample_inputs_are_distinct_and_static():
    # Tracing with one tensor passed twice produced wrong TFLite graphs: inputs must differ.
    a, b = sample_inputs(GRAPHS["hide"], 32)
    assert a.shape == b.shape == image_shape(32)
    assert not torch.equal(a, b)
    face, identity = sample_inputs(GRAPHS["masknet"], 32)
    assert face.shape == image_shape(32) and identity.shape == (1, 128)
    assert torch.allclose(identity.norm(dim=1), torch.ones(1))


def test_graph_wrappers_call_the_network():
    models = Models(HidingNetwork().eval(), MaskNet(MaskNetConfig(work_size=32)).eval())
    protected, mask = sample_inputs(GRAPHS["hide"], 16)
    masked, lost = GRAPHS["hide"].build(models)(protected, mask)
    recovered, _ = GRAPHS["reveal"].build(models)(masked, lost)
    assert torch.allclose(recovered, protected, atol=1e-5)
    (made,) = GRAPHS["masknet"].build(models)(*sample_inputs(GRAPHS["masknet"], 32))
    assert made.shape == image_shape(32)


def test_masknet_is_only_available_with_weights():
    assert not GRAPHS["masknet"].available(Models(HidingNetwork()))
    assert GRAPHS["hide"].available(Models(HidingNetwork()))
