"""Benchmarks: size, accuracy distribution, accuracy vs cost, and a table whose rows draw their cell."""

import numpy as np
import streamlit as st

from archpred.app import benchmarks_page, cache, export, state, ui
from archpred.app.draw import cell_figure
from archpred.app.text import fmt_number

ui.through_navigation()
st.title("Benchmarks")
st.caption("Real published results. Pick a benchmark, explore it, select a row to see its cell.")

left, right = st.columns([2, 1])
name = left.selectbox("Benchmark", cache.benchmark_names(), key="bench_name")
dataset = None
if name == "nb201":
    dataset = right.selectbox("Dataset", ["cifar10", "cifar100", "imagenet16-120"], key="bench_dataset")
bench = ui.benchmark_or_stop(name, dataset)

acc = bench.accuracy
c1, c2, c3, c4 = st.columns(4)
c1.metric("Architectures", fmt_number(len(bench)))
c2.metric(f"Best {bench.target}", fmt_number(float(np.nanmax(acc))))
c3.metric("Mean", fmt_number(float(np.nanmean(acc))))
c4.metric("Space", bench.space.name)

frame = cache.benchmark_frame(name, dataset)
plot_left, plot_right = st.columns(2)
plot_left.plotly_chart(benchmarks_page.histogram(frame, bench.target), width="stretch", config=export.PLOT_CONFIG)
others = benchmarks_page.other_metrics(bench)
if others:
    x = plot_right.selectbox("Against", others, key="bench_x")
    plot_right.plotly_chart(benchmarks_page.scatter(frame, x, bench.target), width="stretch", config=export.PLOT_CONFIG)

st.subheader("Table")
st.caption("Click a column to sort; select a row to draw its cell.")
event = st.dataframe(
    frame,
    key="bench_table",
    on_select="rerun",
    selection_mode="single-row",
    hide_index=True,
    height=320,
    column_config=benchmarks_page.column_config(frame),
)
rows = event.selection.rows if event is not None else []
if rows:
    i = int(rows[0])
    arch = bench.archs[i]
    figure = cell_figure(arch, title=benchmarks_page.row_title(bench, i))
    st.plotly_chart(figure, width="stretch", config=export.PLOT_CONFIG)
    st.json(benchmarks_page.readable_record(bench.record(i)), expanded=False)
    if st.button("Open in cell editor", key="bench_open"):
        state.send_to_editor(bench.space.name, arch)
        st.switch_page("pages/cell_editor.py")
