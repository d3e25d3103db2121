"""archpred: the Streamlit app. Run with ``streamlit run app.py``."""

from pathlib import Path

import streamlit as st

from archpred.app import ui

ROOT = Path(__file__).parent
# (file, title, icon); a page whose file is absent is left out of the menu.
PAGES = [
    ("pages/benchmarks.py", "Benchmarks", ":material/table_chart:"),
    ("pages/cell_editor.py", "Cell editor", ":material/edit:"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    ("pages/models.py", "Models", ":material/model_training:"),
    ("pages/embedding_map.py", "Embedding map", ":material/scatter_plot:"),
    ("pages/latent_walk.py", "Latent walk", ":material/route:"),
    ("pages/train.py", "Train", ":material/fitness_center:"),
]

st.set_page_config(page_title="archpred", page_icon=":material/hub:", layout="wide")
pages = [st.Page(path, title=title, icon=icon) for path, title, icon in PAGES if (ROOT / path).exists()]
ui.device_sidebar()
st.navigation(pages).run()
