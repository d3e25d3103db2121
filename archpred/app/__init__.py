"""Helpers of the Streamlit app: cached loaders, drawing, panels. Pages stay thin."""
