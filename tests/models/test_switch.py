"""The fast-path switches used by plain_linear / reference_attention / factored_graph_conv."""

import pytest

from mslu.models import cpu_attention, cpu_linear, embedding
from mslu.models.switch import Switch


def test_switch_off_nests_and_restores():
    s = Switch()
    assert s.on
    with s.off():
        assert not s.on
        with s.off():
            assert not s.on
        assert not s.on
    assert s.on
    with pytest.raises(RuntimeError), s.off():
        raise RuntimeError
    assert s.on


@pytest.mark.parametrize(
    "ctx, switch",
    [
        (cpu_linear.plain_linear, cpu_linear._fused),
        (cpu_attention.reference_attention, cpu_attention._core),
        (embedding.factored_graph_conv, embedding._dense),
    ],
)
def test_context_managers_turn_their_fast_path_off(ctx, switch):
    assert switch.on
    with ctx():
        assert not switch.on
    assert switch.on
