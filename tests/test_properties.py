"""Differential property tests: random specs, judged by Keras and PyTorch themselves.

For random chain and DAG specs (conv, depthwise, pool, BatchNorm, zero padding, add,
concatenate, flatten, global pooling, dense; random sizes, strides, dilations, groups and every
padding form), the checker's per-layer output shapes and parameter counts must equal what Keras
and PyTorch report for the same network built here DIRECTLY from ``keras.layers`` and
``torch.nn`` (not through archspec's backends), and a refused chain must be one that PyTorch
refuses too. Weight transfer between archspec's two live models must preserve outputs, and
random mutations of valid specs must end in a located SpecError or a valid model, never a crash.

CI runs a bounded, derandomized number of examples. Long random runs on demand:
``pytest -m slow tests/test_properties.py`` (thousands per property), or
``ARCHSPEC_HYPOTHESIS_EXAMPLES=N pytest tests/test_properties.py`` (N random examples each).
"""

from __future__ import annotations

import ast
import copy
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import archspec
from archspec.backends import BackendError
from archspec.diagnostics import SpecError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
nn = torch.nn

EXAMPLES = int(os.environ.get("ARCHSPEC_HYPOTHESIS_EXAMPLES", "0"))
# Valid specs a backend cannot build yet (reported; remove an entry once it is fixed).
KNOWN_BACKEND_LIMITS: tuple[str, ...] = ()
SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))


def budget(default: int) -> Any:
    """CI: ``default`` examples, same ones each run. On demand: the env var's count, random."""
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        derandomize=not EXAMPLES,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --- strategies --------------------------------------------------------------------------------

ints = st.integers


def one_or_pair(low: int, high: int) -> st.SearchStrategy[Any]:
    return st.one_of(ints(low, high), st.lists(ints(low, high), min_size=2, max_size=2))


EXPLICIT_PADDING = st.one_of(
    ints(0, 2),
    st.lists(ints(0, 2), min_size=2, max_size=2),
    st.lists(st.lists(ints(0, 2), min_size=2, max_size=2), min_size=2, max_size=2),
)
PADDING = st.one_of(st.sampled_from(["valid", "same"]), EXPLICIT_PADDING)


def is_one(value: Any) -> bool:
    return value in (1, [1, 1])


@st.composite
def conv2d(draw: Any) -> dict[str, Any]:
    strides = draw(one_or_pair(1, 3))
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    fields = {
        "filters": groups * draw(ints(1, 3)),
        "kernel_size": draw(one_or_pair(1, 4)),
        "strides": strides,
        "padding": draw(PADDING),
        # NOTE: Keras refuses strides > 1 with dilation > 1, so the checker does too.
        "dilation_rate": draw(one_or_pair(1, 2)) if is_one(strides) else 1,
        "groups": groups,
        "use_bias": draw(st.booleans()),
    }
    return {"conv2d": fields}


@st.composite
def depthwise(draw: Any) -> dict[str, Any]:
    strides = draw(one_or_pair(1, 2))
    fields = {
        "kernel_size": draw(one_or_pair(1, 3)),
        "strides": strides,
        "padding": draw(PADDING),
        "depth_multiplier": draw(ints(1, 2)),
        "dilation_rate": draw(one_or_pair(1, 2)) if is_one(strides) else 1,
        "use_bias": draw(st.booleans()),
    }
    return {"depthwise_conv2d": fields}


@st.composite
def pool(draw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"pool_size": draw(one_or_pair(1, 3))}
    if draw(st.booleans()):
        fields["strides"] = draw(one_or_pair(1, 3))
    fields["padding"] = draw(st.one_of(st.sampled_from(["valid", "same"]), ints(0, 1)))
    return {draw(st.sampled_from(["max_pool2d", "avg_pool2d"])): fields}


@st.composite
def batch_norm(draw: Any) -> dict[str, Any]:
    affine = draw(st.booleans())  # PyTorch has one switch for both gamma and beta
    fields = {
        "epsilon": draw(st.sampled_from([1e-3, 1e-5, 0.01])),
        "momentum": draw(st.sampled_from([0.99, 0.9, 0.5])),
        "center": affine,
        "scale": affine,
    }
    return {"batch_norm": fields}


@st.composite
def conv_transpose(draw: Any) -> dict[str, Any]:
    strides = draw(ints(1, 3))
    fields: dict[str, Any] = {
        "filters": draw(ints(1, 3)),
        "kernel_size": draw(one_or_pair(1, 4)),
        "strides": strides,
        "padding": draw(st.sampled_from(["valid", "same"])),
        "use_bias": draw(st.booleans()),
    }
    if strides > 1 and draw(st.booleans()):
        fields["output_padding"] = draw(ints(0, strides - 1))
    return {"conv2d_transpose": fields}


ZERO_PADDING = st.builds(lambda p: {"zero_padding2d": {"padding": p}}, EXPLICIT_PADDING)
CROPPING = st.builds(lambda p: {"cropping2d": {"cropping": p}}, EXPLICIT_PADDING)
UPSAMPLING = st.builds(
    lambda size, mode: {"upsampling2d": {"size": size, "interpolation": mode}},
    one_or_pair(1, 3),
    st.sampled_from(["nearest", "bilinear"]),
)
IMAGE_LAYER = st.one_of(
    conv2d(), conv2d(), depthwise(), pool(), pool(), batch_norm(), ZERO_PADDING,
    st.just({"relu": {}}), conv_transpose(), CROPPING, UPSAMPLING,
    st.sampled_from([{"hard_swish": {}}, {"hard_sigmoid": {}}, {"swish": {}}]),
)  # fmt: skip


@st.composite
def tail(draw: Any) -> list[dict[str, Any]]:
    """Flatten or global pooling, then dense layers (BatchNorm between, sometimes)."""
    layers: list[dict[str, Any]] = [{draw(st.sampled_from(["flatten", "global_avg_pool2d"])): {}}]
    for _ in range(draw(ints(0, 2))):
        if draw(st.booleans()):
            layers.append(draw(batch_norm()))
        layers.append({"dense": {"units": draw(ints(1, 12)), "use_bias": draw(st.booleans())}})
    return layers


def spec_of(shape: list[int], layers: list[dict[str, Any]]) -> dict[str, Any]:
    """A spec with every layer named ``l<i>`` (so results map by name)."""
    named = [{**layer, "name": f"l{index}"} for index, layer in enumerate(layers)]
    return {"archspec": 1, "name": "prop", "input": {"shape": shape}, "layers": named}


INPUT_SHAPE = st.tuples(ints(3, 20), ints(3, 20), st.sampled_from([1, 2, 3, 4, 6])).map(list)


@st.composite
def chain_specs(draw: Any) -> dict[str, Any]:
    body = draw(st.lists(IMAGE_LAYER, min_size=1, max_size=4))
    return spec_of(draw(INPUT_SHAPE), body + (draw(tail()) if draw(st.booleans()) else []))


@st.composite
def aligned_branches(draw: Any, merge: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two branches likely to agree in shape: 'same' padding and one stride."""
    strides, filters = draw(one_or_pair(1, 2)), draw(ints(1, 4))
    first = {"filters": filters, "kernel_size": draw(one_or_pair(1, 3)), "strides": strides}
    if draw(st.booleans()):
        width = filters if merge == "add" else draw(ints(1, 4))
        second = {"conv2d": {"filters": width, "kernel_size": 1, "strides": strides}}
    else:
        second = {"max_pool2d": {"pool_size": draw(one_or_pair(1, 3)), "strides": strides}}
    for fields in (first, *second.values()):
        fields["padding"] = "same"
    return {"conv2d": first}, second


@st.composite
def dag_specs(draw: Any) -> dict[str, Any]:
    """A trunk, two branches from its end, merged by add or concatenate, then a tail."""
    trunk = draw(st.lists(IMAGE_LAYER, max_size=2))
    merge = draw(st.sampled_from(["add", "concatenate"]))
    if draw(st.booleans()):
        first, second = draw(aligned_branches(merge))
    else:
        first = draw(st.one_of(conv2d(), pool()))
        second = draw(st.one_of(conv2d(), pool(), st.just({"relu": {}}), batch_norm()))
    spec = spec_of(draw(INPUT_SHAPE), [*trunk, first, second, {merge: {}}, *draw(tail())])
    fork = f"l{len(trunk) - 1}" if trunk else "input"
    at = len(trunk)
    spec["layers"][at + 1]["inputs"] = [fork]
    spec["layers"][at + 2]["inputs"] = [f"l{at}", f"l{at + 1}"]
    return spec


# --- the oracles: the frameworks' own layers ------------------------------------------------------


def op_of(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = next(k for k in entry if k not in ("name", "inputs"))
    return kind, entry[kind]


def pairs(padding: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Explicit padding forms of the spec language as ((top, bottom), (left, right))."""
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    if isinstance(padding[0], int):
        return ((padding[0], padding[0]), (padding[1], padding[1]))
    return (tuple(padding[0]), tuple(padding[1]))  # type: ignore[return-value]


def two(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)  # type: ignore[return-value]


def tf_same(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's documented 'same' padding for one axis (odd pixel after)."""
    span = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def keras_layers(kind: str, fields: dict[str, Any]) -> list[Any]:
    """The Keras layers a spec layer means (explicit padding = ZeroPadding2D + valid)."""
    layers = keras.layers
    padding = fields.get("padding", "valid")
    explicit = [] if isinstance(padding, str) else [layers.ZeroPadding2D(pairs(padding))]
    mode = padding if isinstance(padding, str) else "valid"
    if kind == "conv2d":
        rest = {k: v for k, v in fields.items() if k != "padding"}
        return [*explicit, layers.Conv2D(padding=mode, **rest)]
    if kind == "depthwise_conv2d":
        rest = {k: v for k, v in fields.items() if k != "padding"}
        return [*explicit, layers.DepthwiseConv2D(padding=mode, **rest)]
    if kind in ("max_pool2d", "avg_pool2d"):
        cls = layers.MaxPooling2D if kind == "max_pool2d" else layers.AveragePooling2D
        return [*explicit, cls(fields["pool_size"], fields.get("strides"), padding=mode)]
    if kind == "conv2d_transpose":
        return [layers.Conv2DTranspose(**fields)]
    simple = {
        "upsampling2d": lambda: layers.UpSampling2D(**fields),
        "cropping2d": lambda: layers.Cropping2D(pairs(fields["cropping"])),
        "hard_swish": lambda: layers.Activation("hard_swish"),
        "hard_sigmoid": lambda: layers.Activation("hard_sigmoid"),
        "swish": lambda: layers.Activation("swish"),
        "batch_norm": lambda: layers.BatchNormalization(**fields),
        "zero_padding2d": lambda: layers.ZeroPadding2D(pairs(padding)),
        "relu": layers.ReLU,
        "flatten": layers.Flatten,
        "global_avg_pool2d": layers.GlobalAveragePooling2D,
        "dense": lambda: layers.Dense(**fields),
        "add": layers.Add,
        "concatenate": layers.Concatenate,
    }
    return [simple[kind]()]


def keras_oracle(spec: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], int, int]]:
    """Per layer: (output shape, params, trainable params) as Keras builds and counts them."""
    tensors = {"input": keras.Input(shape=tuple(spec["input"]["shape"]))}
    previous, found = "input", {}
    for entry in spec["layers"]:
        kind, fields = op_of(entry)
        sources = [tensors[name] for name in entry.get("inputs", [previous])]
        x = sources if kind in ("add", "concatenate") else sources[0]
        made = keras_layers(kind, fields)
        for layer in made:
            x = layer(x)
        trainable = sum(math.prod(w.shape) for layer in made for w in layer.trainable_weights)
        found[entry["name"]] = (tuple(x.shape[1:]), sum(l.count_params() for l in made), trainable)  # noqa: E741
        tensors[entry["name"]] = x
        previous = entry["name"]
    return found


def torch_modules(kind: str, fields: dict[str, Any], x: Any) -> list[Any]:
    """The torch.nn modules a spec layer means, for input ``x`` (NCHW); explicit padding as
    ``ZeroPad2d`` (left, right, top, bottom); TensorFlow's 'same' computed here."""
    channels, size = x.shape[1], tuple(x.shape[2:])
    padding = fields.get("padding", "valid")
    if kind in ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d"):
        window = two(fields["kernel_size"] if "conv" in kind else fields["pool_size"])
        default = window if "pool" in kind else 1
        strides = two(fields.get("strides") or default)
        dilation = two(fields.get("dilation_rate", 1))
        if padding == "same":
            (t, b), (left, r) = (tf_same(n, k, s, d) for n, k, s, d in zip(size, window, strides, dilation, strict=True))  # fmt: skip
        elif padding == "valid" or (kind.endswith("pool2d") and isinstance(padding, int)):
            (t, b), (left, r) = (0, 0), (0, 0)
        else:
            (t, b), (left, r) = pairs(padding)
        pad = [nn.ZeroPad2d((left, r, t, b))]
        if kind == "conv2d":
            conv = nn.Conv2d(channels, fields["filters"], window, strides, 0, dilation, fields.get("groups", 1), fields.get("use_bias", True))  # fmt: skip
            return [*pad, conv]
        if kind == "depthwise_conv2d":
            out = channels * fields["depth_multiplier"]
            return [*pad, nn.Conv2d(channels, out, window, strides, 0, dilation, channels, fields.get("use_bias", True))]  # fmt: skip
        inner = padding if isinstance(padding, int) else 0  # PyTorch's own (symmetric) rule
        cls = nn.MaxPool2d if kind == "max_pool2d" else nn.AvgPool2d
        return [*pad, cls(window, strides, inner)]
    if kind == "batch_norm":
        cls = nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d
        affine = fields["scale"]
        return [
            cls(channels, eps=fields["epsilon"], momentum=1 - fields["momentum"], affine=affine)
        ]
    if kind == "zero_padding2d":
        (t, b), (left, r) = pairs(padding)
        return [nn.ZeroPad2d((left, r, t, b))]
    if kind == "cropping2d":
        (t, b), (left, r) = pairs(fields["cropping"])
        return [nn.ZeroPad2d((-left, -r, -t, -b))]  # negative padding crops
    if kind == "upsampling2d":
        mode = fields["interpolation"]
        extra = {"align_corners": False} if mode == "bilinear" else {}
        return [nn.Upsample(scale_factor=two(fields["size"]), mode=mode, **extra)]
    if kind == "conv2d_transpose":
        return [transposed_conv(fields, channels, size)]
    if kind in ("hard_swish", "hard_sigmoid", "swish"):
        return [
            {"hard_swish": nn.Hardswish, "hard_sigmoid": nn.Hardsigmoid, "swish": nn.SiLU}[kind]()
        ]
    if kind == "dense":
        return [nn.Linear(channels, fields["units"], bias=fields["use_bias"])]
    if kind == "global_avg_pool2d":
        return [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return [{"relu": nn.ReLU, "flatten": nn.Flatten}[kind]()]


class Cropped(nn.Module):
    """A module's output cut to Keras's length per axis: ``before`` rows first, the rest at
    the end; zero rows appended where Keras's output is longer (TensorFlow's gradient rule)."""

    def __init__(self, inner: Any, before: tuple[int, int], length: tuple[int, int]) -> None:
        super().__init__()
        self.inner, self.before, self.length = inner, before, length

    def forward(self, x: Any) -> Any:
        y = self.inner(x)
        grow = [max(0, b + n - m) for b, n, m in zip(self.before, self.length, y.shape[2:], strict=True)]  # fmt: skip
        y = nn.functional.pad(y, (0, grow[1], 0, grow[0]))
        (top, left), (h, w) = self.before, self.length
        return y[:, :, top : top + h, left : left + w]


def transposed_conv(fields: dict[str, Any], channels: int, size: tuple[int, ...]) -> Any:
    """ConvTranspose2d (full output), cut as Keras's documented output length says:
    ``n * s`` (same), ``n * s + max(k - s, 0)`` (valid), or with output_padding
    ``(n - 1) * s + k - 2 * (k // 2 if same else 0) + output_padding``; TensorFlow drops
    ``total // 2`` rows first for same."""
    kernel, stride = two(fields["kernel_size"]), fields["strides"]
    same, extra = fields["padding"] == "same", fields.get("output_padding")
    before, length = [], []
    for n, k in zip(size, kernel, strict=True):
        full = (n - 1) * stride + k
        if extra is None:
            out = n * stride if same else n * stride + max(k - stride, 0)
        else:
            out = full - 2 * (k // 2 if same else 0) + extra
        before.append(max(full - out, 0) // 2 if same else 0)
        length.append(out)
    inner = nn.ConvTranspose2d(channels, fields["filters"], kernel, stride, bias=fields["use_bias"])
    return Cropped(inner, tuple(before), tuple(length))


def torch_oracle(spec: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], int, int]]:
    """Per layer: (output shape channels_last, params + float buffers, params), by running
    PyTorch's modules on zeros; raises where PyTorch refuses the network."""
    h, w, c = spec["input"]["shape"]
    tensors = {"input": torch.zeros(1, c, h, w)}
    previous, found = "input", {}
    with torch.no_grad():
        for entry in spec["layers"]:
            kind, fields = op_of(entry)
            sources = [tensors[name] for name in entry.get("inputs", [previous])]
            modules: list[Any] = []
            if kind == "add":  # equal ranks: PyTorch broadcasts as Keras does (or refuses)
                x = sum(sources[1:], sources[0])
            elif kind == "concatenate":
                x = torch.cat(sources, dim=1)
            else:
                x = sources[0]
                modules = torch_modules(kind, fields, x)
                for module in modules:
                    x = module.eval()(x)
                if 0 in x.shape:
                    raise ValueError(f"empty output {tuple(x.shape)}")
            params = sum(p.numel() for m in modules for p in m.parameters())
            buffers = sum(b.numel() for m in modules for b in m.buffers() if b.is_floating_point())
            shape = tuple(x.shape[1:])
            found[entry["name"]] = ((*shape[1:], shape[0]), params + buffers, params)
            tensors[entry["name"]] = x
            previous = entry["name"]
    return found


def checker(report: Any) -> dict[str, tuple[tuple[int, ...], int, int]]:
    return {
        layer.name: (layer.output_shape, layer.params, layer.trainable_params)
        for layer in report.layers[1:]
    }


def check_spec(spec: dict[str, Any]) -> Any:
    return archspec.check(yaml.safe_dump(spec, sort_keys=False))


# --- properties ------------------------------------------------------------------------------------


@budget(80)
@given(chain_specs())
def test_chains_agree_with_both_frameworks(spec: dict[str, Any]) -> None:
    try:
        report = check_spec(spec)
    except SpecError as err:
        event("refused")
        # Refused: PyTorch, running the same network, must refuse it too.
        with pytest.raises((RuntimeError, ValueError)):
            torch_oracle(spec)
        assert all(d.location.line >= 1 for d in err.diagnostics)
        return
    expected = checker(report)
    assert torch_oracle(spec) == expected
    assert keras_oracle(spec) == expected


@budget(50)
@given(dag_specs())
def test_dags_agree_with_both_frameworks(spec: dict[str, Any]) -> None:
    try:
        report = check_spec(spec)
    except SpecError:
        event("refused")
        with pytest.raises((RuntimeError, ValueError)):
            torch_oracle(spec)
        return
    expected = checker(report)
    assert torch_oracle(spec) == expected
    assert keras_oracle(spec) == expected


def randomize(model: Any, backend: str, rng: np.random.Generator) -> None:
    """Random weights everywhere (variances positive), so a transfer has something to carry."""
    if backend == "keras":
        for weight in model.weights:
            values = rng.normal(size=tuple(weight.shape))
            weight.assign(np.abs(values) + 0.5 if "variance" in weight.path else values)
        return
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if tensor.is_floating_point():
                values = torch.from_numpy(rng.normal(size=tuple(tensor.shape)))
                tensor.copy_(values.abs() + 0.5 if "running_var" in name else values)


def outputs(model: Any, backend: str, x: np.ndarray) -> np.ndarray:
    if backend == "keras":
        return np.asarray(model(x, training=False))
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    return y.transpose(0, 2, 3, 1) if y.ndim == 4 else y


@budget(8)
@given(st.one_of(chain_specs(), dag_specs()), ints(0, 2**32 - 1))
def test_transfer_preserves_outputs_both_ways(spec: dict[str, Any], seed: int) -> None:
    try:
        report = check_spec(spec)
        models = {b: archspec.build(report, backend=b) for b in ("keras", "torch")}
    except SpecError:
        assume(False)
    except BackendError as err:
        assert any(limit in str(err) for limit in KNOWN_BACKEND_LIMITS), err
        assume(False)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, *report.graph.input.op.shape)).astype("float32")
    for source, target in (("keras", "torch"), ("torch", "keras")):
        randomize(models[source], source, rng)
        archspec.transfer_weights(models[source], models[target])
        expected = outputs(models[source], source, x)
        np.testing.assert_allclose(
            outputs(models[target], target, x), expected, rtol=1e-4, atol=1e-4
        )


# --- mutations: never a crash ------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        ints(-(10**6), 10**6),
        st.sampled_from([0, -1, 10**12, 10**40]),
        st.floats(allow_nan=True, allow_infinity=True),
        TEXT,
        st.sampled_from(["same", "valid", "relu", "$n_classes", "${x}", "$", "input", "l0"]),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
LINE_RE = re.compile(r"^[^\n]+:\d+:\d+: error: [^\n]+$")


def containers(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every mapping and list in a parsed spec."""
    found = [path] if isinstance(tree, dict | list) and tree else []
    items = (
        tree.items()
        if isinstance(tree, dict)
        else enumerate(tree)
        if isinstance(tree, list)
        else []
    )
    for key, value in items:
        found += containers(value, (*path, key))
    return found


def mutate(tree: Any, data: Any) -> Any:
    tree = copy.deepcopy(tree)
    for _ in range(data.draw(ints(1, 3), label="mutations")):
        paths = containers(tree)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="at")
        parent = tree
        for key in path:
            parent = parent[key]
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        key = data.draw(st.sampled_from(keys), label="key")
        action = data.draw(st.sampled_from(["delete", "rename", "replace", "insert"]))
        if action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[data.draw(TEXT | st.sampled_from(["name", "inputs", "repeat", "filters"]))] = parent.pop(key)  # fmt: skip
        elif action == "insert" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[data.draw(st.sampled_from(keys))]))
        else:
            parent[key] = data.draw(VALUES, label="value")
    return tree


def assert_located(err: SpecError, text: str) -> None:
    lines = text.count("\n") + 2
    assert err.diagnostics
    for diagnostic in err.diagnostics:
        assert 1 <= diagnostic.location.line <= lines and diagnostic.location.col >= 1
        assert LINE_RE.match(diagnostic.format()), diagnostic.format()


BASES = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in SPECS]


@budget(200)
@given(st.one_of(st.sampled_from(BASES), chain_specs(), dag_specs()), st.data())
def test_mutations_end_in_a_located_error_or_a_valid_model(spec: Any, data: Any) -> None:
    text = yaml.safe_dump(mutate(spec, data), sort_keys=False, allow_unicode=True)
    try:
        report = archspec.check(text)
    except SpecError as err:
        assert_located(err, text)
        return
    assert report.total_params >= 0
    for backend in ("keras", "torch"):  # generation needs no framework; it must not crash
        try:
            ast.parse(archspec.generate(report, backend=backend))
        except BackendError as err:  # a clear refusal is allowed only for a known limitation
            assert any(limit in str(err) for limit in KNOWN_BACKEND_LIMITS), err


@budget(200)
@given(st.sampled_from(SPECS), st.data())
def test_text_mutations_end_in_a_located_error_or_a_valid_model(path: Path, data: Any) -> None:
    text = path.read_text(encoding="utf-8")
    for _ in range(data.draw(ints(1, 3))):
        start = data.draw(ints(0, len(text)))
        end = data.draw(ints(start, min(len(text), start + 20)))
        text = text[:start] + data.draw(st.text(max_size=8) | st.sampled_from(["", ":", "- ", "\n  ", "{", "]", "&a", "*a", "!!", "$", "\t"])) + text[end:]  # fmt: skip
    try:
        archspec.check(text)
    except SpecError as err:
        assert_located(err, text)


# --- long runs on demand ---------------------------------------------------------------------------

LONG_RUNS = {
    "chains": (test_chains_agree_with_both_frameworks, (chain_specs(),), 2000),
    "dags": (test_dags_agree_with_both_frameworks, (dag_specs(),), 2000),
    "transfer": (
        test_transfer_preserves_outputs_both_ways,
        (st.one_of(chain_specs(), dag_specs()), ints(0, 2**32 - 1)),
        200,
    ),
    "mutations": (
        test_mutations_end_in_a_located_error_or_a_valid_model,
        (st.one_of(st.sampled_from(BASES), chain_specs(), dag_specs()), st.data()),
        3000,
    ),
    "text_mutations": (
        test_text_mutations_end_in_a_located_error_or_a_valid_model,
        (st.sampled_from(SPECS), st.data()),
        3000,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", LONG_RUNS)
def test_properties_at_length(name: str, request: pytest.FixtureRequest) -> None:
    """``pytest -m slow tests/test_properties.py``: thousands of random examples each."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("thousands of random examples: pytest -m slow tests/test_properties.py")
    test, strategies, examples = LONG_RUNS[name]
    run = settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(given(*strategies)(test.hypothesis.inner_test))
    run()
