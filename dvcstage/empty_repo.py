"""Logging in a git repository that has no commit yet (``git init && dvc init``, nothing else).

DVCLive's ``Live._init_dvc`` asks git for HEAD's commit before it checks whether there is one,
and scmrepo raises ``SCMError: Empty git repo``: the first example of a tutorial dies with a
traceback in a brand-new repository. DVCLive's own intent for that case (its code, a few lines
further) is to log anyway and not save an experiment, with a warning. :func:`init_dvc` runs
DVCLive's set-up and, when it fails for that reason only, finishes it the way DVCLive does for
a repository without commits.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("dvcstage")

NO_COMMIT_WARNING = (
    "This git repository has no commit yet: logging to {dir} without saving a DVC experiment. "
    "Commit once (`git add -A && git commit -m init`) to save experiments."
)


def init_dvc(live: Any, dvclive_init_dvc: Callable[[], None]) -> None:
    """Run DVCLive's ``_init_dvc``; in a repository without commits, log without experiments.

    ``live`` is the :class:`dvcstage.Live` being set up, ``dvclive_init_dvc`` DVCLive's own
    ``_init_dvc`` bound to it. Any other error is raised as it is.
    """
    from scmrepo.exceptions import SCMError

    try:
        dvclive_init_dvc()
        return
    except SCMError:
        repo = getattr(live, "_dvc_repo", None)
        scm = getattr(repo, "scm", None)
        if scm is None or not getattr(scm, "no_commits", False):
            raise
    # DVCLive stopped at ``scm.get_rev()``; what it does next for a repository without
    # commits: an experiment name, DVC's log level, the dvc.yaml path, no experiment saving.
    from dvclive import env
    from dvclive.dvc import get_exp_name

    live._exp_name = get_exp_name(live._exp_name, None, None)
    logging.getLogger("dvc").setLevel(os.getenv(env.DVCLIVE_LOGLEVEL, "WARNING").upper())
    live._dvc_file = live._init_dvc_file()
    if live._save_dvc_exp:
        logger.warning(NO_COMMIT_WARNING.format(dir=live.dir))
        live._save_dvc_exp = False
