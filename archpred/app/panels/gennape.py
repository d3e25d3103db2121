"""Cell-editor panel: GENNAPE's zero-shot accuracy for the current cell, in every space.

GENNAPE (pretrained on NB-101) predicts from the computation graph of the cell's benchmark
network, so one model serves all four spaces; the members' own predictions are in an expander.
"""

from __future__ import annotations

import json

import streamlit as st

from archpred.app import cache, clusters
from archpred.app.text import fmt_number, md_escape
from archpred.errors import ArchpredError
from archpred.spaces import Architecture


def render(space_name: str, arch: Architecture) -> None:
    """GENNAPE's prediction for ``arch`` with the member breakdown; an ``st.info`` when there is
    no model file, one ``st.error`` line when the model or the cell's network fails."""
    st.subheader("GENNAPE")
    found = clusters.model_or_none()
    if found is None:
        return
    model, digest = found
    arch_json = json.dumps(arch.to_dict(), sort_keys=True)
    try:
        with st.spinner("GENNAPE: building the cell's computation graph ..."):
            result = cache.gennape_cell(digest, space_name, arch_json, model, arch)
    except (ArchpredError, ValueError, RuntimeError) as err:
        st.error(md_escape(f"GENNAPE cannot predict for this cell: {clusters.one_line(err)}"))
        return
    trained_on = str(model.info.get("trained_on", "NB-101"))
    st.metric("GENNAPE predicted accuracy", fmt_number(result["predicted"]))
    st.caption(
        f"Zero-shot: GENNAPE was trained on {md_escape(trained_on)} computation graphs and reads this {space_name} "
        "cell's benchmark network as one. " + clusters.ensemble_note()
    )
    with st.expander("GENNAPE's members"):
        st.dataframe(clusters.member_table(model, result["scores"]), hide_index=True, key="editor_gennape_members")
