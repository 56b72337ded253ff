"""Bring runs of other tools into dvcstage: ``dvcstage import tensorboard|wandb``.

Readers (``tensorboard.py``, ``wandb.py``) turn another tool's run into a
:class:`~dvcstage.importers.source.SourceRun`; ``writing.py`` writes it as an ordinary
dvcstage run with :class:`dvcstage.Live` (idempotent, ``--dry-run``, ``--exp NAME``);
``cli.py`` adds the ``import`` command. The readers need the ``import`` extra
(``pip install 'dvcstage[import]'``: TensorBoard's event reader and the ``wandb`` package).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from .writing import ImportOptions, Outcome, import_runs, unchanged_import

__all__ = ["ImportOptions", "Outcome", "import_tensorboard", "import_wandb"]


def import_tensorboard(logdir: Path, options: ImportOptions, out: TextIO) -> list[Outcome]:
    """Import every run under a TensorBoard ``logdir`` (see :mod:`.tensorboard`)."""
    from .tensorboard import origin_of, read_tensorboard

    origin = origin_of(Path(logdir))
    done = [] if options.overwrite else unchanged_import(origin, options, out)
    if done:
        return done
    runs, scratch = read_tensorboard(Path(logdir))
    with scratch:
        return import_runs(runs, options, out, origin)


def import_wandb(path: Path, options: ImportOptions, out: TextIO) -> list[Outcome]:
    """Import the W&B run(s) at ``path`` (see :mod:`.wandb`)."""
    from .wandb import origin_of, read_wandb

    origin = origin_of(Path(path))
    done = [] if options.overwrite else unchanged_import(origin, options, out)
    if done:
        return done
    return import_runs(read_wandb(Path(path)), options, out, origin)
