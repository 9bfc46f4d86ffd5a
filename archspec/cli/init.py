"""``archspec init NAME``: a starter spec that checks, with editor completion wherever it lives.

It writes ``NAME.yaml`` (``NAME`` may carry a folder: ``nets/tiny`` writes ``nets/tiny.yaml``)
and, beside it, ``archspec.schema.json``, the schema of the installed archspec; the spec's first
line points editors (yaml-language-server: VS Code's YAML extension, Neovim, ...) at that file,
so completion and checking work in any folder, not only inside this repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archspec.cli.common import EXIT_OK, UsageError

SCHEMA_FILE = "archspec.schema.json"
STARTER = """\
# yaml-language-server: $schema={schema}
archspec: 1
name: {name}
doc: A small convolutional classifier to start from (written by archspec init).

params:                       # overridable: archspec check {file} --set n_classes=100
  input_shape: [32, 32, 3]
  n_classes: 10
  width: 32

input: {{shape: $input_shape}}  # channels_last (H, W, C); the batch is implicit

blocks:
  conv_bn_relu:               # a reusable sub-graph with typed arguments
    doc: 3x3 convolution, BatchNorm, ReLU.
    args: {{filters: int, strides: 1}}
    layers:
      - conv2d: {{filters: $filters, kernel_size: 3, strides: $strides, padding: same,
                 use_bias: false}}
      - batch_norm: {{}}
      - relu: {{}}

layers:                       # a list is a chain; `name:` and `inputs: [...]` wire any DAG
  - conv_bn_relu: {{filters: $width}}
  - conv_bn_relu: {{filters: $width * 2, strides: 2}}
  - conv_bn_relu: {{filters: $width * 4, strides: 2}}
  - global_avg_pool2d: {{}}
  - dropout: {{rate: 0.2}}
  - dense: {{units: $n_classes, activation: softmax}}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the network's name; NAME.yaml is written (may hold a folder)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing NAME.yaml")


def starter(name: str, schema: str = SCHEMA_FILE) -> str:
    """The starter spec's text for a network called ``name``."""
    return STARTER.format(name=name, schema=schema, file=f"{name}.yaml")


def run(args: argparse.Namespace) -> int:
    from archspec.frontend.names import name_problem
    from archspec.frontend.schema import schema_text
    from archspec.util.files import write_text

    target = Path(args.name).with_suffix(".yaml")
    name = target.stem
    problem = name_problem(name)
    if problem:
        raise UsageError(f"{problem} (the spec's name is the file's name)")
    if not target.parent.is_dir():
        raise UsageError(f"no such directory: {target.parent}")
    if target.exists() and not args.force:
        raise UsageError(f"{target} exists; choose another name or pass --force")
    schema = target.parent / SCHEMA_FILE
    # NOTE: the schema is refreshed every time, so that it matches the installed archspec.
    write_text(schema, schema_text())
    write_text(target, starter(name))
    print(f"wrote {target} and {schema}", file=sys.stderr)
    print(f"next: archspec check {target}", file=sys.stderr)
    return EXIT_OK
