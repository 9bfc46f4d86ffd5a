"""The reference specs in specs/, each held to figures published outside this project.

Every expected number below is copied from a paper, a model zoo file or a framework's
documentation (cited beside it), never from archspec's own output. Tests that need a backend
skip until that backend exists; the backends' own suites build every spec both ways.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import archspec
from archspec.cli import main
from archspec.cli.library import collect, source_of
from archspec.ops.base import Weight
from archspec.passes.check import Report

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
BACKENDS = ROOT / "archspec" / "backends"

# Parameter totals as published (PyTorch counts parameters() only, BatchNorm buffers excluded).
PUBLISHED_PARAMS = {
    # The sum of the blobs of Caffe's models/bvlc_alexnet/deploy.prototxt (BAIR model zoo),
    # the count usually quoted for the 2012 AlexNet.
    "alexnet_original": 60_965_224,
    # torchvision docs, AlexNet_Weights.IMAGENET1K_V1: num_params.
    "alexnet_torchvision": 61_100_840,
    # LeNet-5 as usually built (full C3, dense 84 -> 10 output): the total of the usual Keras
    # summaries; per-layer figures from the paper are checked below.
    "lenet5": 61_706,
    # keras.io/api/applications: VGG16 138.4M; exactly keras.applications.VGG16().count_params(),
    # which test_vgg16_equals_keras_applications asks of Keras itself.
    "vgg16": 138_357_544,
    # torchvision docs, ResNet18_Weights.IMAGENET1K_V1: num_params.
    "resnet18": 11_689_512,
}

# torchvision docs' "GFLOPS" column (the weights' _ops meta) counts the multiply-adds of convs
# and linear layers, in billions.
TORCHVISION_GMACS = {"alexnet_torchvision": 0.714, "resnet18": 1.814, "vgg16": 15.47}

# Feature maps (H, W, C) named in the sources.
FEATURE_MAPS = {
    # Krizhevsky et al. (2012), section 3.5 and figure 2, at Caffe's 227x227 input.
    "alexnet_original": {
        "conv1": (55, 55, 96),
        "conv2": (27, 27, 256),
        "conv3": (13, 13, 384),
        "conv4": (13, 13, 384),
        "conv5": (13, 13, 256),
        "pool5": (6, 6, 256),
    },
    # torchvision's classifier starts with nn.Linear(256 * 6 * 6, 4096).
    "alexnet_torchvision": {"avgpool": (6, 6, 256), "classifier_1": (4096,)},
    # LeCun et al. (1998), section II.B: C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5, C5 120.
    "lenet5": {"c1": (28, 28, 6), "s2": (14, 14, 6), "c3": (10, 10, 16), "s4": (5, 5, 16)},
    # Simonyan and Zisserman (2015): five 2x2/2 pools take 224 to 7; fc1 reads 7 * 7 * 512.
    "vgg16": {"block5_pool": (7, 7, 512), "flatten": (25088,)},
    # He et al. (2016), table 1: conv1 112x112, conv2_x 56x56, ..., conv5_x 7x7.
    "resnet18": {
        "conv1": (112, 112, 64),
        "maxpool": (56, 56, 64),
        "layer1_1_relu2": (56, 56, 64),
        "layer2_1_relu2": (28, 28, 128),
        "layer3_1_relu2": (14, 14, 256),
        "layer4_1_relu2": (7, 7, 512),
    },
}

# Caffe's bvlc_alexnet deploy.prototxt: blob shapes (num_output, channels / group, kh, kw).
CAFFE_ALEXNET_BLOBS = [
    ("conv1", (96, 3, 11, 11)),
    ("conv2", (256, 48, 5, 5)),
    ("conv3", (384, 256, 3, 3)),
    ("conv4", (384, 192, 3, 3)),
    ("conv5", (256, 192, 3, 3)),
    ("fc6", (4096, 9216)),
    ("fc7", (4096, 4096)),
    ("fc8", (1000, 4096)),
]

# torchvision's AlexNet module tree: weights in state_dict() order.
TORCHVISION_ALEXNET = [
    ("features.0", (64, 3, 11, 11)),
    ("features.3", (192, 64, 5, 5)),
    ("features.6", (384, 192, 3, 3)),
    ("features.8", (256, 384, 3, 3)),
    ("features.10", (256, 256, 3, 3)),
    ("classifier.1", (4096, 9216)),
    ("classifier.4", (4096, 4096)),
    ("classifier.6", (1000, 4096)),
]

# torchvision's ResNet-18 module tree (resnet.py: BasicBlock registers conv1, bn1, conv2, bn2,
# then downsample; _make_layer gives a downsample to the first block of layers 2-4): the
# weight-bearing modules in state_dict() order, with their first weight's PyTorch shape.
TORCHVISION_RESNET18 = [
    ("conv1", (64, 3, 7, 7)),
    ("bn1", (64,)),
    ("layer1.0.conv1", (64, 64, 3, 3)),
    ("layer1.0.bn1", (64,)),
    ("layer1.0.conv2", (64, 64, 3, 3)),
    ("layer1.0.bn2", (64,)),
    ("layer1.1.conv1", (64, 64, 3, 3)),
    ("layer1.1.bn1", (64,)),
    ("layer1.1.conv2", (64, 64, 3, 3)),
    ("layer1.1.bn2", (64,)),
    ("layer2.0.conv1", (128, 64, 3, 3)),
    ("layer2.0.bn1", (128,)),
    ("layer2.0.conv2", (128, 128, 3, 3)),
    ("layer2.0.bn2", (128,)),
    ("layer2.0.downsample.0", (128, 64, 1, 1)),
    ("layer2.0.downsample.1", (128,)),
    ("layer2.1.conv1", (128, 128, 3, 3)),
    ("layer2.1.bn1", (128,)),
    ("layer2.1.conv2", (128, 128, 3, 3)),
    ("layer2.1.bn2", (128,)),
    ("layer3.0.conv1", (256, 128, 3, 3)),
    ("layer3.0.bn1", (256,)),
    ("layer3.0.conv2", (256, 256, 3, 3)),
    ("layer3.0.bn2", (256,)),
    ("layer3.0.downsample.0", (256, 128, 1, 1)),
    ("layer3.0.downsample.1", (256,)),
    ("layer3.1.conv1", (256, 256, 3, 3)),
    ("layer3.1.bn1", (256,)),
    ("layer3.1.conv2", (256, 256, 3, 3)),
    ("layer3.1.bn2", (256,)),
    ("layer4.0.conv1", (512, 256, 3, 3)),
    ("layer4.0.bn1", (512,)),
    ("layer4.0.conv2", (512, 512, 3, 3)),
    ("layer4.0.bn2", (512,)),
    ("layer4.0.downsample.0", (512, 256, 1, 1)),
    ("layer4.0.downsample.1", (512,)),
    ("layer4.1.conv1", (512, 512, 3, 3)),
    ("layer4.1.bn1", (512,)),
    ("layer4.1.conv2", (512, 512, 3, 3)),
    ("layer4.1.bn2", (512,)),
    ("fc", (1000, 512)),
]


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    """Every spec in specs/, loaded and checked once."""
    return {path.stem: archspec.check(archspec.load(path)) for path in sorted(SPECS.glob("*.yaml"))}


def torch_shape(weight: Weight) -> tuple[int, ...]:
    """A kernel's shape in PyTorch's (and Caffe's) layout: conv (out, in, kh, kw), dense (out, in)."""
    shape = weight.shape
    if weight.name == "kernel" and len(shape) == 4:
        return (shape[3], shape[2], shape[0], shape[1])
    if weight.name == "kernel" and len(shape) == 2:
        return (shape[1], shape[0])
    return shape


def weight_bearing(report: Report) -> list[tuple[str, tuple[int, ...]]]:
    """(node name, PyTorch shape of its first weight) for every node that owns weights."""
    return [(layer.name, torch_shape(layer.weights[0])) for layer in report.layers if layer.weights]


def backend_exists(name: str) -> bool:
    return (BACKENDS / name / "__init__.py").is_file()


# -- figures from the sources -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_parameter_total_matches_the_published_figure(
    reports: dict[str, Report], name: str
) -> None:
    assert reports[name].trainable_params == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", sorted(FEATURE_MAPS))
def test_feature_maps_match_the_source(reports: dict[str, Report], name: str) -> None:
    report = reports[name]
    found = {layer: report.layer(layer).output_shape for layer in FEATURE_MAPS[name]}
    assert found == FEATURE_MAPS[name]


@pytest.mark.parametrize("name", sorted(TORCHVISION_GMACS))
def test_conv_and_linear_macs_match_torchvision_docs(reports: dict[str, Report], name: str) -> None:
    macs = sum(layer.macs for layer in reports[name].layers if layer.kind in ("conv2d", "dense"))
    digits = 2 if name == "vgg16" else 3  # as the docs print them
    assert round(macs / 1e9, digits) == TORCHVISION_GMACS[name]


def test_every_spec_in_the_library_is_exact(reports: dict[str, Report]) -> None:
    """Nothing ships in specs/ without a published figure here (alexnet.yaml: the notebook's)."""
    assert set(reports) == {*PUBLISHED_PARAMS, "alexnet"}


def test_alexnet_original_has_caffe_blob_shapes(reports: dict[str, Report]) -> None:
    report = reports["alexnet_original"]
    assert weight_bearing(report) == CAFFE_ALEXNET_BLOBS
    # Caffe's lrn_param: local_size 5, alpha 1e-4, beta 0.75; k = 2 from the paper, section 3.3.
    for name in ("norm1", "norm2"):
        op = report.graph.node(name).op
        assert (op.size, op.alpha, op.beta, op.k) == (5, 1e-4, 0.75, 2.0)
    # ReLU, then LRN, then the overlapping pool, as in the prototxt.
    assert report.graph.node("norm1").inputs == ("relu1",)
    assert report.graph.node("pool1").inputs == ("norm1",)


def test_lenet5_matches_the_paper_layer_by_layer(reports: dict[str, Report]) -> None:
    """LeCun et al. (1998), II.B: C1 156 parameters and 122,304 connections; C5 48,120
    connections; F6 10,164 parameters. A connection is a multiply-add or a bias."""
    report = reports["lenet5"]
    c1, c5, f6 = report.layer("c1"), report.layer("c5"), report.layer("f6")
    assert c1.params == 156
    assert c1.macs + math.prod(c1.output_shape) == 122_304
    assert c5.macs + c5.output_shape[0] == 48_120 == c5.params
    assert f6.params == 10_164


def test_alexnet_torchvision_weights_follow_its_state_dict(reports: dict[str, Report]) -> None:
    found = [(n.replace("_", "."), s) for n, s in weight_bearing(reports["alexnet_torchvision"])]
    assert found == TORCHVISION_ALEXNET


def test_alexnet_torchvision_uses_pytorch_default_init(reports: dict[str, Report]) -> None:
    """PyTorch docs (nn.Conv2d, nn.Linear): weight and bias ~ U(-sqrt(k), sqrt(k)) with
    k = 1 / fan_in; variance_scaling's uniform limit is sqrt(3 * scale / fan_in)."""
    for layer in reports["alexnet_torchvision"].layers:
        if not layer.weights:
            continue
        kernel, bias = layer.weights
        fan_in = math.prod(kernel.shape[:-1])
        weight_init = layer.node.op.initializer(kernel)
        assert weight_init.mode == "fan_in" and weight_init.distribution == "uniform"
        assert math.sqrt(3 * weight_init.scale / fan_in) == pytest.approx(1 / math.sqrt(fan_in))
        bias_init = layer.node.op.initializer(bias)
        assert bias_init.name == "random_uniform"
        assert bias_init.maxval == -bias_init.minval == pytest.approx(1 / math.sqrt(fan_in))


def test_resnet18_weights_follow_torchvision_state_dict(reports: dict[str, Report]) -> None:
    found = [(n.replace("_", "."), s) for n, s in weight_bearing(reports["resnet18"])]
    assert found == TORCHVISION_RESNET18
    # Buffers: running_mean and running_var of every BatchNorm (num_batches_tracked aside).
    bn_channels = sum(shape[0] for name, shape in TORCHVISION_RESNET18 if len(shape) == 1)
    assert reports["resnet18"].non_trainable_params == 2 * bn_channels


def test_resnet18_has_torchvision_settings(reports: dict[str, Report]) -> None:
    """resnet.py: convs bias-free with kaiming_normal_(mode='fan_out', nonlinearity='relu');
    nn.BatchNorm2d defaults eps 1e-5, momentum 0.1 (Keras 0.9)."""
    for layer in reports["resnet18"].layers:
        op = layer.node.op
        if layer.kind == "conv2d":
            assert not op.use_bias
            init = op.initializer(layer.weights[0])
            assert (init.name, init.scale, init.mode, init.distribution) == (
                "variance_scaling",
                2.0,
                "fan_out",
                "untruncated_normal",
            )
        elif layer.kind == "batch_norm":
            assert (op.epsilon, op.momentum) == (1e-5, 0.9)
    # The residual DAG: identity shortcut in layer1, projection in layer2.
    graph = reports["resnet18"].graph
    assert graph.node("layer1_0_add").inputs == ("layer1_0_bn2", "maxpool")
    assert graph.node("layer2_0_add").inputs == ("layer2_0_bn2", "layer2_0_downsample_1")
    assert graph.node("layer2_0_downsample_0").inputs == ("layer1_1_relu2",)


def test_repeat_names_do_not_depend_on_the_count() -> None:
    """resnet18.yaml names each stage's later blocks ``layerN`` with ``repeat:``; a written repeat
    suffixes even when it is 1, so ResNet-18 (1) and ResNet-34 (2, 3, 5, 2) name alike."""
    text = (
        "archspec: 1\nname: m\nparams: {n: 1}\ninput: {shape: [4]}\n"
        "layers:\n  - dense: {units: 4}\n    name: fc\n    repeat: $n\n"
    )
    assert [node.name for node in archspec.load(text).nodes] == ["input", "fc_1"]
    assert [node.name for node in archspec.load(text, n=2).nodes] == ["input", "fc_1", "fc_2"]


# -- archspec library ---------------------------------------------------------------------------


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows keyed by spec name (the link text)."""
    rows = {}
    for line in text.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        rows[cells[0][1 : cells[0].index("]")]] = cells
    return rows


def test_library_table_reports_the_checker(
    reports: dict[str, Report], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["library", str(SPECS), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "| Spec | Source | Input | Params | Trainable | MACs |"
    rows = table_rows(text)
    assert set(rows) == set(reports)
    for name, report in reports.items():
        link, source, shape, total, trainable, macs = rows[name]
        assert link == f"[{name}]({(SPECS / (name + '.yaml')).as_posix()})"
        assert source == source_of(report.graph.doc)
        assert tuple(int(d) for d in shape.split("x")) == report.graph.input.op.output_shape([])
        assert int(total.replace(",", "")) == report.total_params
        assert int(trainable.replace(",", "")) == report.trainable_params
        assert int(macs.replace(",", "")) == report.macs


def test_library_sources_are_citations() -> None:
    sources = {entry.name: entry.source for entry in collect(SPECS)}
    assert sources["alexnet_original"].startswith("Krizhevsky, Sutskever and Hinton (2012)")
    assert sources["resnet18"].endswith("as torchvision.models.resnet18")
    assert sources["alexnet"] == "AlexNet as built by hand in the reference notebook"
    assert all(0 < len(source) <= 80 for source in sources.values())


def test_library_text_format_lists_every_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["library", str(SPECS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Spec", "Source", "Input", "Params", "Trainable", "MACs"]
    assert sorted(line.split()[0] for line in lines[2:]) == sorted(
        p.stem for p in SPECS.glob("*.yaml")
    )
    assert any("138,357,544" in line for line in lines)


def test_source_of_reads_up_to_the_first_colon_or_sentence() -> None:
    assert source_of("Smith (2020), as X: a net. More.") == "Smith (2020), as X"
    assert source_of("A net from a notebook. It has: layers.") == "A net from a notebook"
    assert source_of("Just a name") == "Just a name"
    assert source_of("LeCun et al. (1998), as built: C1. C3.") == "LeCun et al. (1998), as built"


def test_library_reports_every_broken_spec_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        "archspec: 1\nname: a\ninput: {shape: [4]}\nlayers:\n  - dense: {units: 0}\n"
    )
    (tmp_path / "b.yaml").write_text(
        "archspec: 1\nname: b\ninput: {shape: [4]}\nlayers:\n  - denze: {}\n"
    )
    assert main(["library", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = captured.err.splitlines()
    assert [line.split(":")[0] for line in errors] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "b.yaml"),
    ]
    assert all(": error: " in line for line in errors)


def test_library_refuses_a_folder_without_specs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["library", str(tmp_path)]) == 2
    assert "no *.yaml spec" in capsys.readouterr().err
    assert main(["library", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err


# -- against the frameworks ---------------------------------------------------------------------


@pytest.mark.skipif(not backend_exists("keras"), reason="Keras backend not built yet")
def test_vgg16_equals_keras_applications() -> None:
    """Same layers, names and parameter count as keras.applications.VGG16(weights=None), and the
    same function once its weights are copied by order (batch 1, one forward each)."""
    import keras
    import numpy as np

    reference = keras.applications.VGG16(weights=None)
    ours = archspec.build(SPECS / "vgg16.yaml", backend="keras")
    assert ours.count_params() == reference.count_params() == PUBLISHED_PARAMS["vgg16"]
    named = [layer.name for layer in reference.layers if layer.weights]
    assert [layer.name for layer in ours.layers if layer.weights] == named
    ours.set_weights(reference.get_weights())
    probe = [reference.get_layer("fc2").output, reference.output]
    taps = (
        keras.Model(reference.input, probe),
        keras.Model(ours.input, [ours.get_layer("fc2").output, ours.output]),
    )
    image = np.random.default_rng(0).uniform(0, 1, (1, 224, 224, 3)).astype("float32")
    (want_fc2, want), (got_fc2, got) = (
        [np.asarray(t) for t in model(image, training=False)] for model in taps
    )
    np.testing.assert_allclose(got_fc2, want_fc2, atol=1e-5)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert float(np.abs(want_fc2).max()) > 0  # the probe is not trivially zero


def torchvision_alexnet(nn: Any) -> Any:
    """AlexNet as torchvision's alexnet.py builds it (nn.Sequential features and classifier)."""
    return nn.Sequential(
        nn.Sequential(
            *(nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2)),
            *(nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2)),
            *(nn.Conv2d(192, 384, 3, padding=1), nn.ReLU()),
            *(nn.Conv2d(384, 256, 3, padding=1), nn.ReLU()),
            *(nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2)),
        ),
        nn.AdaptiveAvgPool2d((6, 6)),
        nn.Flatten(),
        nn.Sequential(
            *(nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU()),
            *(nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU()),
            nn.Linear(4096, 1000),
        ),
    )


def torchvision_resnet18(nn: Any) -> Any:
    """ResNet-18 as torchvision's resnet.py builds it: BasicBlock, _make_layer, [2, 2, 2, 2]."""

    class BasicBlock(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )

        def forward(self, x: Any) -> Any:
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    def make_layer(inplanes: int, planes: int, stride: int) -> Any:
        return nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1))

    return nn.Sequential(
        *(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU()),
        nn.MaxPool2d(3, 2, 1),
        *(make_layer(64, 64, 1), make_layer(64, 128, 2)),
        *(make_layer(128, 256, 2), make_layer(256, 512, 2)),
        *(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 1000)),
    )


def expected_torch_keys(name: str, modules: list[tuple[str, tuple[int, ...]]]) -> list[str]:
    """torchvision's state_dict() keys (num_batches_tracked aside), dots in module paths as
    underscores: conv weight (+ bias unless bias=False), linear weight and bias, BatchNorm
    weight, bias, running_mean, running_var."""
    keys = []
    for module, shape in modules:
        if len(shape) == 1:
            suffixes: tuple[str, ...] = ("weight", "bias", "running_mean", "running_var")
        elif len(shape) == 4 and name == "resnet18":
            suffixes = ("weight",)
        else:
            suffixes = ("weight", "bias")
        keys += [f"{module.replace('.', '_')}.{suffix}" for suffix in suffixes]
    return keys


@pytest.mark.skipif(not backend_exists("torch"), reason="PyTorch backend not built yet")
@pytest.mark.parametrize(
    ("name", "modules", "reference"),
    [
        ("alexnet_torchvision", TORCHVISION_ALEXNET, torchvision_alexnet),
        ("resnet18", TORCHVISION_RESNET18, torchvision_resnet18),
    ],
)
def test_torch_model_is_torchvision_model(name: str, modules: list, reference: Any) -> None:
    """The live PyTorch model holds torchvision's state_dict() keys (dots as underscores) in
    torchvision's order, and computes what torchvision's structure computes once those tensors
    are loaded into it by order (eval mode, batch 1)."""
    import torch
    from torch import nn

    ours = archspec.build(SPECS / f"{name}.yaml", backend="torch").eval()
    state = {k: v for k, v in ours.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert list(state) == expected_torch_keys(name, modules)
    twin = reference(nn).eval()
    twin_keys = [k for k in twin.state_dict() if not k.endswith("num_batches_tracked")]
    twin.load_state_dict(dict(zip(twin_keys, state.values(), strict=True)), strict=False)
    image = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(ours(image), twin(image), atol=1e-5, rtol=1e-5)
