"""A job stopped by Streamlit (a BaseException between epochs) is reported once on the next run;
a job that finishes or fails in an ordinary way is not."""

import pytest
import streamlit as st

from archpred.app import jobs


@pytest.fixture(autouse=True)
def _clean_session():
    st.session_state.pop(jobs.JOBS_KEY, None)
    yield
    st.session_state.pop(jobs.JOBS_KEY, None)


class FakeStop(BaseException):
    """Stands in for streamlit's StopException (also a BaseException)."""


def test_a_stopped_job_is_reported_once_with_its_epoch():
    with pytest.raises(FakeStop), jobs.running("models", "Training the GNN", total=100) as job:
        job.advance(73)
        raise FakeStop
    found = jobs.stopped("models")
    assert found is not None
    assert found.stopped_message() == "Training the GNN was stopped at epoch 73/100: nothing was saved."
    assert jobs.stopped("models") is None


def test_a_stopped_job_says_what_it_saved():
    with pytest.raises(FakeStop), jobs.running("train", "Training", total=10) as job:
        job.advance(4)
        job.saved("ckpt.pt")
        raise FakeStop
    assert "the last save is ckpt.pt" in jobs.stopped("train").stopped_message()


@pytest.mark.parametrize("error", [None, ValueError("bad setting")])
def test_a_finished_or_failed_job_is_not_reported(error):
    try:
        with jobs.running("models", "Training", total=5) as job:
            job.advance(5)
            if error:
                raise error
    except ValueError:
        pass
    assert jobs.stopped("models") is None
