"""Training from the spec: one recipe (``training:``), the same run in Keras and PyTorch.

``recipe`` holds the table of optimizers, schedules, callbacks and augmentations (one meaning
each), ``data`` reads and batches the data in numpy (both frameworks see the same batches in
the same order), ``run`` renders the backend's training script and executes it. No framework is
imported here; each backend lowers the recipe in ``archspec/backends/<name>/training.py``.
"""
