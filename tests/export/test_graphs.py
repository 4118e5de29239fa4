import torch

from imn_export.export.graphs import GRAPHS, image_shape, sample_inputs
from imn_export.nn.hiding import HidingNetwork


def test_io_names_are_the_sdk_contract():
    assert GRAPHS["hide"].inputs == ("protected", "mask")
    assert GRAPHS["hide"].outputs == ("masked", "lost")
    assert GRAPHS["reveal"].inputs == ("masked", "aux")
    assert GRAPHS["reveal"].outputs == ("recovered", "mask_recovered")


def test_sample_inputs_are_distinct_and_static():
    # Tracing with one tensor passed twice produced wrong TFLite graphs: inputs must differ.
    a, b = sample_inputs(GRAPHS["hide"], 32)
    assert a.shape == b.shape == image_shape(32)
    assert not torch.equal(a, b)


def test_graph_wrappers_call_the_network():
    net = HidingNetwork().eval()
    protected, mask = sample_inputs(GRAPHS["hide"], 16)
    masked, lost = GRAPHS["hide"].build(net)(protected, mask)
    recovered, _ = GRAPHS["reveal"].build(net)(masked, lost)
    assert torch.allclose(recovered, protected, atol=1e-5)
