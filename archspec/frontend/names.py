"""What a spec may use as a name: identifiers that are safe as Keras layer names, PyTorch
attribute names and Python variables in generated code."""

from __future__ import annotations

from archspec.ir.names import IDENTIFIER_RE, name_problem

__all__ = ["HELPER_SUFFIXES", "IDENTIFIER_RE", "RESERVED", "name_problem", "node_name_problem"]

# Names that backends derive from a node's name for helper layers (Keras pads in a layer
# `<node>_pad`): a node may not be called that beside its owner, so that check and every
# backend agree on which names exist.
HELPER_SUFFIXES = ("_pad",)

# Attributes of keras.Model / torch.nn.Module that a submodule name would shadow.
RESERVED = frozenset(
    {
        "add_module",
        "apply",
        "buffers",
        "call",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dtype",
        "eval",
        "evaluate",
        "extra_repr",
        "fit",
        "float",
        "forward",
        "get_layer",
        "half",
        "input",
        "inputs",
        "layers",
        "load_state_dict",
        "losses",
        "modules",
        "name",
        "outputs",
        "parameters",
        "predict",
        "regularization_loss",
        "reset_parameters",
        "self",
        "state_dict",
        "summary",
        "to",
        "train",
        "training",
        "type",
        "weights",
        "x",
        "zero_grad",
        "torch",
        "nn",
        "F",
        "keras",
        "ops",
        "np",
        "math",
        "super",
        "model",
        "build_model",
        # The rest of torch.nn.Module's public attributes (torch 2.13): a submodule named after
        # one would be hidden behind the method (tests/test_injection.py keeps this complete).
        "T_destination",
        "bfloat16",
        "call_super_init",
        "dump_patches",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "ipu",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "to_empty",
        "xpu",
    }
)


def node_name_problem(name: str) -> str | None:
    """Like ``name_problem``, also refusing names that would shadow framework attributes."""
    problem = name_problem(name)
    if problem is None and name in RESERVED:
        return f"invalid node name {name!r}: it would shadow a framework attribute"
    return problem
