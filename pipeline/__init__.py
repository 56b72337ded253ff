"""The demo pipeline's ``train`` stage: a tiny NumPy segmenter-detector on synthetic shapes.

``python -m pipeline.train`` (what ``dvc exp run`` runs) reads ``params.yaml``'s ``train``
section, trains on the CPU and logs every epoch with :class:`dvcstage.Live`.
"""
