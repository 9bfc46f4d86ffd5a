"""``archspec ops expressions|blocks|outputs``: the spec language's reference, beside the ops.

The function list is read from the expression table, so it is always current.
"""

from __future__ import annotations

from archspec.frontend.expression_functions import FUNCTIONS
from archspec.limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH

EXPRESSIONS = """\
Expressions: safe arithmetic in any value (params, block arguments, layer fields, input shape,
repeat). A string that mentions a param with a bare $name, or starts with a function call, is
an expression; ${{name}} stays string interpolation, $$ a literal $.

  params:
    width: 32
    alpha: 0.75
    channels: make_divisible($width * $alpha, 8)   # a param may use the params before it
  layers:
    - conv2d:
        filters: $channels * 2
        kernel_size: 3
        padding: 1 if $size % 2 == 0 else 0        # a conditional value
    - conv2d: {{filters: "max(1, $channels // 4)", kernel_size: 1}}   # quote a comma in {{...}}

Values are ints, floats and booleans with Python's semantics: + - * / // % (/ gives a float,
// and % floor), unary -, parentheses, == != < <= > >= (chained), and, or, not, true, false,
and A if CONDITION else B. A float where a field needs an int is an error (use // or round).
--set overrides feed the params computed from them.

Functions:
{functions}

Errors point at the token at fault (FILE:LINE:COL and the column within the value):
undefined param (with did-you-mean), unknown function (did-you-mean), syntax, division by zero,
a boolean or string in arithmetic, a non-boolean condition, results over 30 digits or not
finite. Expressions are at most {length} characters and nest at most {depth} levels.
"""

BLOCKS = """\
Blocks with several inputs: a block declares named inputs; a call passes one layer per input.

  blocks:
    merge:
      inputs: [x, skip]            # the chain starts from the first; there is no `input` here
      layers:
        - conv2d: {filters: 64, kernel_size: 1}
          inputs: [skip]
          name: proj
        - add: {}
          inputs: [x, proj]
  layers:
    - conv_bn: {filters: 64}       # a one-input block: from the chain...
    - conv_bn: {filters: 32}       # ...or from any layer written before the call
      inputs: [input]
      name: branch
    - merge: {}
      inputs: [conv_bn, branch]

A block without `inputs:` has one input, `input`. Errors: a call passing the wrong number of
inputs ("block 'merge' takes 2 inputs (x, skip), got 1"), a multi-input block called without
`inputs:`, an unknown name or one written after the call ("unknown input 'b'"), `input` inside
a block with named inputs, a name declared twice, `repeat:` on a multi-input call (a repeated
one-input call reads its `inputs:` once, then continues the chain).
"""

OUTPUTS = """\
Several outputs: `outputs: [logits, aux]` at the top level (instead of `output:`). Every layer
that feeds an output is alive; one that feeds none is an error ("does not feed any output").

  check --format json : output_shape is the list of the outputs' shapes, in order, and
                        output_shapes maps name -> shape (one output: output_shape as before)
  Keras               : keras.Model(inputs, outputs=[logits, aux]): a list, in order
  PyTorch             : forward returns a tuple (logits, aux), in order
  ONNX                : one graph output per name, in order

Errors: an unknown name (did-you-mean), a name listed twice, the input as an output, both
`output:` and `outputs:`.
"""


def expressions_text() -> str:
    width = max(len(name) for name in FUNCTIONS)
    functions = "\n".join(f"  {name.ljust(width)}  {f.doc}" for name, f in FUNCTIONS.items())
    return EXPRESSIONS.format(
        functions=functions, length=MAX_EXPRESSION_LENGTH, depth=MAX_EXPRESSION_DEPTH
    )


TOPICS = {
    "expressions": expressions_text,
    "blocks": lambda: BLOCKS,
    "outputs": lambda: OUTPUTS,
}
