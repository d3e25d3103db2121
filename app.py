"""archpred: the Streamlit app. Run with ``streamlit run app.py``.

The page setting, the sidebar and the menu live in ``archpred.app.ui.run_app``, so a page that
Streamlit runs alone (see ``ui.through_navigation``) gets the same frame."""

from archpred.app import ui

ui.run_app()
