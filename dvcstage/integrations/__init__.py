"""Framework loggers that log predictions with boxes and masks.

- :mod:`.lightning`: ``DVCStageLogger`` (DVCLive's Lightning logger with WandbLogger's media
  calls) and ``DVCStagePredictionLogger`` (validation samples with boxes and masks);
- :mod:`.keras`: ``DVCStagePredictionCallback``, DVCLive's Keras callback plus predictions of a
  fixed validation batch;
- :mod:`.ultralytics`: ``add_dvcstage_callback(model)`` for Ultralytics YOLO;
- :mod:`.predictions`: what they share (``PredictionSample``, the adapters).

Each framework module imports its framework; ``dvcstage.lightning``, ``dvcstage.keras`` and
``dvcstage.ultralytics`` are short names for them.
"""
