"""The language server (``archspec lsp``): diagnostics, hover, completion, go to definition.

Needs the ``lsp`` extra (pygls). ``analysis`` runs the checker on a document's text and indexes
it, ``features`` answers requests from that index, ``server`` speaks the protocol.
"""
