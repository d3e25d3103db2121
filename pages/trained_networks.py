"""Trained networks: the IO dataset's NB-101 networks, trained here, with their real accuracies
and what they output on held-out images (arch2vec's input-output extension)."""

import streamlit as st

from archpred.app import io_view, latent, ui

ui.through_navigation()
st.title("Trained networks")
st.caption(
    "NB-101 networks trained on this machine, each with its accuracy on held-out images and its output features "
    "(the 10 pooled features with the largest last-layer weights for the image's class, times those weights), "
    "as Suchopárová & Neruda's IO dataset. Select a network to see its outputs and open its cell."
)

dataset, folder = io_view.dataset_or_stop()
io_view.summary(dataset)
clusters = io_view.cluster_section(dataset, folder)
st.plotly_chart(io_view.cluster_figure(dataset, clusters), key="io_clusters_plot")

st.subheader("Networks")
row = io_view.network_table(dataset, clusters)
if row is None:
    st.caption("No network selected yet: select a row to see its outputs.")
else:
    net = dataset.networks[row]
    st.plotly_chart(io_view.network_heatmap(dataset, row), key="io_net_heatmap")
    latent.open_in_editor("nb101", net.cell, key="io_open")

st.subheader("All networks on one image")
images = io_view.images_of(dataset, folder)
left, right = st.columns([1, 3])
image = left.number_input(
    "Image", 0, len(dataset.networks[0].labels) - 1, int(dataset.unseen_images[0]), key="io_image"
)
if images is not None:
    left.plotly_chart(io_view.image_figure(images, int(image)), key="io_image_plot")
right.plotly_chart(io_view.image_heatmap(dataset, int(image)), key="io_image_heatmap")
