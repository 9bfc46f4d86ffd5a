"""Generated Keras source: standalone, ruff-clean, notebook-like, and the same model as the live one.

``ARCHSPEC_ACCEPT=1 pytest tests/test_keras_source.py`` refreshes the golden copy.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import archspec
from archspec.backends import BackendError
from archspec.backends.keras import lowering
from tests.conftest import ROOT, SPECS
from tests.test_keras_ops import ruff_clean, spec_text

keras = pytest.importorskip("keras")

ALEXNET = ROOT / "specs" / "alexnet.yaml"
GOLDEN = ROOT / "tests" / "golden" / "alexnet_keras.py"


def module_from(source: str, name: str) -> ModuleType:
    module = ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def source() -> str:
    return archspec.generate(ALEXNET, backend="keras")


@pytest.fixture(scope="module")
def golden(source: str) -> ModuleType:
    if os.environ.get("ARCHSPEC_ACCEPT"):
        GOLDEN.write_text(source, encoding="utf-8")
    return module_from(GOLDEN.read_text(encoding="utf-8"), "alexnet_keras")


def test_golden_copy_is_current(source: str, golden: ModuleType):
    assert GOLDEN.read_text(encoding="utf-8") == source, "run with ARCHSPEC_ACCEPT=1 to refresh"


def test_every_spec_generates_ruff_clean_standalone_source(tmp_path: Path):
    for spec in SPECS:
        text = archspec.generate(spec, backend="keras")
        (tmp_path / f"{spec.stem}.py").write_text(text, encoding="utf-8")
        imported = set()
        for statement in ast.walk(ast.parse(text)):
            if isinstance(statement, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in statement.names}
            elif isinstance(statement, ast.ImportFrom):
                imported.add((statement.module or "").split(".")[0])
        assert imported == {"keras"}, spec.name
    ruff_clean(tmp_path)


def test_reads_like_the_notebook(source: str):
    assert 'x = layers.Conv2D(filters=96, kernel_size=11, strides=4, name="conv2d")(inputs)' in (
        source
    )
    assert 'x = layers.Dropout(0.5, name="dropout")(x)' in source
    assert "kernel_regularizer=regularizers.L2(weight_decay)" in source
    assert "# (26, 26, 96) -> (26, 26, 256), 614,656 params" in source
    assert "Total params: 46,793,482" in source


def test_build_model_arguments_are_the_spec_params(golden: ModuleType):
    parameters = inspect.signature(golden.build_model).parameters
    assert {k: p.default for k, p in parameters.items()} == {
        "input_shape": (224, 224, 3),
        "n_classes": 10,
        "weight_decay": 1e-4,
    }


@pytest.mark.parametrize(
    "overrides",
    [{}, {"n_classes": 1000, "weight_decay": 5e-4, "input_shape": [227, 227, 3]}],
    ids=["defaults", "overrides"],
)
def test_generated_model_equals_the_live_one(golden: ModuleType, overrides: dict):
    live = archspec.build(archspec.load(ALEXNET, **overrides), backend="keras")
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    generated = golden.build_model(**arguments)
    assert generated.count_params() == live.count_params()
    assert [(layer.name, tuple(layer.output.shape)) for layer in generated.layers] == [
        (layer.name, tuple(layer.output.shape)) for layer in live.layers
    ]
    generated.set_weights(live.get_weights())
    x = np.random.default_rng(0).normal(size=(1, *live.input.shape[1:])).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(generated(x, training=False)), np.asarray(live(x, training=False))
    )
    assert [float(v) for v in generated.losses] == [float(v) for v in live.losses]


def test_params_with_derived_effects_are_baked_in(spec_file):
    # The pool window depends on input_shape, so input_shape cannot stay an argument; a param
    # named like a module-level name (layers) cannot either.
    path = spec_file(
        "archspec: 1\nname: baked\nparams: {input_shape: [8, 8, 3], n_classes: 4, layers: 2}\n"
        "input: {shape: $input_shape}\nlayers:\n  - conv2d: {filters: $layers, kernel_size: 1}\n"
        "  - adaptive_avg_pool2d: {output_size: 2}\n  - flatten: {}\n"
        "  - dense: {units: $n_classes}\n"
    )
    text = archspec.generate(path, backend="keras")
    module = module_from(text, "baked")
    assert list(inspect.signature(module.build_model).parameters) == ["n_classes"]
    model = module.build_model(n_classes=7)
    assert tuple(model.output.shape) == (None, 7)
    assert model.count_params() == archspec.check(archspec.load(path, n_classes=7)).total_params


def test_variables_are_named_after_nodes_only_where_the_graph_branches():
    layers_yaml = (
        "- conv2d: {filters: 4, kernel_size: 3, padding: same}\n  name: stem\n"
        "- relu: {}\n- conv2d: {filters: 4, kernel_size: 3, padding: same}\n  name: body\n"
        "- add: {}\n  inputs: [body, stem]\n- flatten: {}\n"
    )
    text = archspec.generate(spec_text("branches", "[8, 8, 3]", layers_yaml), backend="keras")
    tree = ast.parse(text)
    targets = {
        target.id
        for statement in ast.walk(tree)
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    assert targets == {"inputs", "stem", "x", "outputs"}
    assert 'x = layers.Add(name="add")([x, stem])' in text


LONG = """\
archspec: 1
name: long_names_everywhere_to_stress_the_layout_of_generated_code
params:
  a_rather_long_parameter_name_for_the_number_of_filters_in_convs: 4
  another_long_parameter_name_for_the_l2_weight_decay_factor: 0.001
  x: [8, 8, 3]
  inputs: 2
input: {shape: $x}
layers:
  - conv2d: {filters: $a_rather_long_parameter_name_for_the_number_of_filters_in_convs,
             kernel_size: [3, 3], strides: 2, padding: [[0, 1], [1, 0]],
             kernel_initializer: {name: variance_scaling, scale: 0.3333333333333333,
                                  mode: fan_avg, distribution: untruncated_normal},
             bias_initializer: {name: random_uniform, minval: -0.024056261216234408,
                                maxval: 0.024056261216234408},
             kernel_regularizer: {l1: 0.0001,
                                  l2: $another_long_parameter_name_for_the_l2_weight_decay_factor}}
    name: first_branch_with_a_very_long_name_that_goes_on_and_on_abcdefg
  - conv2d: {filters: $inputs, kernel_size: 1, strides: 2}
    name: second_branch_with_a_very_long_name_that_goes_on_and_on_abcdef
    inputs: [input]
  - conv2d: {filters: 2, kernel_size: 1, strides: 2}
    name: third_branch_with_a_very_long_name_that_goes_on_and_on_abcdefgh
    inputs: [input]
  - concatenate: {}
    name: the_join_of_all_three_branches_with_a_very_long_name_as_well_xy
    inputs: [first_branch_with_a_very_long_name_that_goes_on_and_on_abcdefg,
             second_branch_with_a_very_long_name_that_goes_on_and_on_abcdef,
             third_branch_with_a_very_long_name_that_goes_on_and_on_abcdefgh]
  - flatten: {}
"""


def test_long_names_and_params_named_like_variables_lay_out_cleanly(tmp_path: Path):
    text = archspec.generate(LONG, backend="keras")
    (tmp_path / "long.py").write_text(text, encoding="utf-8")
    ruff_clean(tmp_path)
    module = module_from(text, "long")
    parameters = list(inspect.signature(module.build_model).parameters)
    assert parameters == [
        "a_rather_long_parameter_name_for_the_number_of_filters_in_convs",
        "another_long_parameter_name_for_the_l2_weight_decay_factor",
        "x",
        "inputs",
    ]
    model = module.build_model(x=(6, 6, 3), inputs=5)
    expected = archspec.check(archspec.load(LONG, x=[6, 6, 3], inputs=5))
    assert model.count_params() == expected.total_params
    assert tuple(model.output.shape) == (None, *expected.output_shape)


def test_odd_doc_text_stays_a_valid_ruff_clean_docstring(tmp_path: Path):
    doc = 'Quotes """ and \\\\ backslashes \\n, "double" and \'single\' ' + "long " * 40
    text = archspec.generate(
        f"archspec: 1\nname: odd\ndoc: {json.dumps(doc)}\ninput: {{shape: [4]}}\n"
        "layers:\n  - dense: {units: 2}\n",
        backend="keras",
    )
    (tmp_path / "odd.py").write_text(text, encoding="utf-8")
    ruff_clean(tmp_path)
    assert ast.get_docstring(ast.parse(text)).startswith("odd: Quotes")


def test_api_generate_and_build_use_the_keras_backend():
    text = archspec.generate(ALEXNET, backend="keras")
    assert text == archspec.backends.keras.generate(archspec.check(archspec.load(ALEXNET)))
    report = archspec.check(archspec.load(spec_text("api", "[4]", "- dense: {units: 2}")))
    model = archspec.build(report, backend="keras")
    assert isinstance(model, keras.Model) and model.archspec_report is report


def test_parameter_count_drift_fails_loudly(monkeypatch):
    # A lowering bug that drops the dense bias: shapes still agree, parameter counts do not.
    original = lowering.ROWS["dense"]

    def without_bias(layer, values):
        call = original(layer, values)[0]
        kwargs = (*(kv for kv in call.kwargs if kv[0] != "use_bias"), ("use_bias", False))
        return [lowering.Call(call.func, call.args, kwargs, call.name)]

    monkeypatch.setitem(lowering.ROWS, "dense", without_bias)
    with pytest.raises(BackendError, match=r"keras model has 8 params .* checker counts 10"):
        archspec.build(spec_text("drift", "[4]", "- dense: {units: 2}"), backend="keras")


def test_generate_does_not_import_a_framework():
    code = (
        "import sys, archspec; archspec.generate(sys.argv[1], backend='keras'); "
        "print(sorted(m for m in ('keras', 'tensorflow', 'torch') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ALEXNET)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
