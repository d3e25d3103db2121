"""Search: launch architecture searches in the background, watch them live, stop, resume, compare."""

import streamlit as st

from archpred.app import search, ui
from archpred.app.text import md_escape

ui.through_navigation()
st.title("Search")
st.caption(
    "Searches the benchmark tables for their best cell. Each run is its own process writing every "
    "evaluation to the run store at once: it keeps going while you use other pages, and a reload, "
    "an app restart or a stopped run loses nothing (the command line reads the same store: "
    "`python -m archpred runs list`)."
)
search.show_flash()

store_text = st.text_input(
    "Run store", value=search.default_store(), key="search_store", help="SQLite file; created by the first launch."
)
path, error = search.store_or_error(store_text)
if path is None:
    st.error(f"Run store: {md_escape(error)}")
    st.stop()

with st.container(border=True):
    st.markdown("**New run**")
    search.new_run(path)

st.subheader("Runs")
search.show_runs(path)
