"""Models: train an accuracy predictor on real benchmark data, see predicted vs true, list saved models."""

import streamlit as st

from archpred.app import cache, jobs, models_page, ui

ui.through_navigation()
st.title("Models")
jobs.report_stopped(models_page.JOB)  # a training run that Stop (or a page switch) cut short
train_tab, saved_tab = st.tabs(["Train", "Saved models"])
device = ui.device_or_stop()

with train_tab:
    c1, c2, c3 = st.columns(3)
    space = c1.selectbox("Search space", models_page.spaces(), format_func=models_page.space_label, key="models_space")
    name = c2.selectbox("Predictor", models_page.TRAINABLE, key="models_name")
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="models_seed"))
    bench = models_page.benchmark_or_reason(space)
    if bench is not None:
        c1, c2 = st.columns(2)
        train_size = int(
            c1.number_input("Training cells", 10, len(bench) - 100, min(1000, len(bench) // 2), key="models_train_size")
        )
        test_size = int(c2.number_input("Test cells", 10, 20_000, 2000, key="models_test_size"))
        config = models_page.options(name)
        model_name = models_page.save_name_input(space, name, train_size, seed)
        replace = models_page.replace_checkbox(model_name)
        if st.button("Train", type="primary", key="models_train"):
            sizes = (train_size, test_size)
            models_page.train_and_save(bench, space, name, config, sizes, seed, model_name, device, replace)
    models_page.show_result()

with saved_tab:
    models = cache.saved_models()
    if not models:
        st.info("No saved predictors yet.")
    else:
        st.dataframe(
            models_page.saved_frame(models),
            hide_index=True,
            key="models_saved_table",
            column_config=models_page.saved_column_config(),
        )
        labels = [s.label for s in models]
        chosen = st.selectbox("Evaluate a saved model", labels, key="models_eval_choice")
        if st.button("Evaluate on 2,000 random cells (they may include its training cells)", key="models_eval"):
            models_page.evaluate_saved(models[labels.index(chosen)], device)
        models_page.show_evaluation()
