"""Clusters: GENNAPE's contrastive embedding of the architecture families, its fuzzy clusters,
and its prediction for a network you upload as ONNX."""

import streamlit as st

from archpred.app import clusters, ui

ui.through_navigation()
st.title("Clusters")
st.caption(
    "Each point is a network's computation graph embedded by GENNAPE's contrastive encoder (pretrained on NB-101) "
    "and projected to 2-D. Colour it by family, by its hard fuzzy c-means cluster or by accuracy; choose a point "
    "to see its cell, its memberships and each cluster head's prediction."
)

model, digest = clusters.model_or_stop()
families, method, colour = clusters.map_options()
map_area = st.container()
st.subheader("Upload a network")
upload = clusters.upload_section()

with map_area:
    frame = clusters.map_or_none(model, digest, families, method, upload)
    if frame is not None:
        row = clusters.show_map(frame, colour, method)
        if row is None:
            st.caption("No point chosen yet.")
        else:
            clusters.show_point(frame, row)

if upload is not None:
    clusters.show_upload(model, digest, upload, frame)
