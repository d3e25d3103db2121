"""Long jobs a page runs while the user waits (training): a marker in the session that outlives
Streamlit's **Stop** button, so the next run can say the job stopped and what was kept.

Stop (and leaving the page) ends the script with a ``BaseException`` between two epochs; no
code of the page runs after it. So a job marks itself as running before it starts and unmarks
itself when it ends in any ordinary way (done, or an error the page shows). A marker still
there on a later run is a job that was stopped: ``report_stopped`` says so once.

Usage::

    jobs.report_stopped("models")                 # first, on every run of the page
    with jobs.running("models", "Training the GNN", total=100) as job:
        for epoch in ...:
            job.advance(epoch + 1)
        job.saved("models/nb201-gnn.pt")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

JOBS_KEY = "app_jobs"  # {name: Job}


@dataclass
class Job:
    """A running job's progress: ``done`` of ``total`` steps (epochs), and what it saved."""

    name: str
    label: str
    total: int
    unit: str = "epoch"
    done: int = 0
    saved_to: str | None = None

    def advance(self, done: int) -> None:
        """``done`` steps are finished."""
        self.done = int(done)

    def saved(self, where: str) -> None:
        """Something was written (a checkpoint or a model file) at ``where``."""
        self.saved_to = str(where)

    def stopped_message(self) -> str:
        """One line: where the job stopped and whether anything was kept."""
        kept = f"the last save is {self.saved_to}" if self.saved_to else "nothing was saved"
        return f"{self.label} was stopped at {self.unit} {self.done}/{self.total}: {kept}."


def _jobs() -> dict[str, Job]:
    return st.session_state.setdefault(JOBS_KEY, {})


@contextmanager
def running(name: str, label: str, total: int, unit: str = "epoch") -> Iterator[Job]:
    """Mark the job ``name`` as running for the ``with`` block; unmark it unless Streamlit
    stopped the script inside the block (Stop, a page switch): then ``report_stopped`` tells."""
    job = Job(name=name, label=label, total=int(total), unit=unit)
    _jobs()[name] = job
    try:
        yield job
    except Exception:
        _jobs().pop(name, None)
        raise
    _jobs().pop(name, None)


def stopped(name: str) -> Job | None:
    """The job ``name`` if an earlier run left it unfinished (taken once), else ``None``."""
    return _jobs().pop(name, None)


def report_stopped(name: str) -> Job | None:
    """An inline warning for a job of an earlier run that was stopped; call it first thing on
    the page, before the page starts the job again. Returns that job, or ``None``."""
    job = stopped(name)
    if job is not None:
        st.warning(job.stopped_message(), icon=":material/stop_circle:")
    return job
