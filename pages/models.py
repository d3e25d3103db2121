"""Models: train an accuracy predictor on real benchmark data, see predicted vs true, list saved models."""

import pandas as pd
import streamlit as st

from archpred.app import cache, models_page, predictor_cache
from archpred.errors import ArchpredError
from archpred.predictors.store import user_dir

st.title("Models")
train_tab, saved_tab = st.tabs(["Train", "Saved models"])

with train_tab:
    c1, c2, c3 = st.columns(3)
    space = c1.selectbox("Search space", models_page.SPACES, key="models_space")
    name = c2.selectbox("Predictor", models_page.TRAINABLE, key="models_name")
    seed = int(c3.number_input("Seed", 0, 10_000, 0, key="models_seed"))
    bench, error = cache.try_benchmark(space)
    if bench is None:
        st.error(f"No data for {space}: {error}")
        st.stop()
    c1, c2 = st.columns(2)
    train_size = int(
        c1.number_input("Training cells", 10, len(bench) - 100, min(1000, len(bench) // 2), key="models_train_size")
    )
    test_size = int(c2.number_input("Test cells", 10, 20_000, 2000, key="models_test_size"))
    defaults = models_page.config_fields(name)
    config = {}
    with st.expander("Options", expanded=True):
        o1, o2, o3 = st.columns(3)
        if "epochs" in defaults:
            config["epochs"] = int(o1.number_input("Epochs", 1, 1000, int(defaults["epochs"]), key="models_epochs"))
            config["loss"] = o2.selectbox("Loss", ["mse", "mse+rank", "rank"], key="models_loss")
            config["ensemble"] = int(o3.number_input("Ensemble size", 1, 10, 1, key="models_ensemble"))
        else:
            config["n_estimators"] = int(o1.number_input("Trees", 1, 1000, 100, key="models_trees"))
            config["features"] = o2.selectbox("Features", ["wide-depth", "onehot"], key="models_features")
    model_name = st.text_input("Save as", f"{space}-{name}-n{train_size}-s{seed}", key="models_save_name")

    if st.button("Train", type="primary", key="models_train"):
        try:
            file_name = models_page.check_model_name(model_name)
            train_rows, test_rows = predictor_cache.split_rows(
                len(bench), train_size, min(test_size, len(bench) - train_size), seed
            )
            total = models_page.epochs_in_total(name, config)
            bar = st.progress(0.0, text="training ...")
            done = [0]

            def tick(epoch, logs):
                done[0] += 1
                loss = logs.get("loss")
                bar.progress(
                    min(1.0, done[0] / total),
                    text=f"epoch {done[0]}/{total}"
                    + (f", loss {loss:.4g}" if loss == loss and loss is not None else ""),
                )

            model, y_true, y_pred, metrics = models_page.train_and_score(
                bench, name, config, train_rows, test_rows, seed, callbacks=[tick]
            )
            bar.progress(1.0, text="done")
            path = model.save(user_dir(create=True) / f"{file_name}.pt")
            st.session_state["models_result"] = {
                "title": f"{name} on {space}: {train_size} training cells, {len(test_rows)} test cells",
                "y_true": y_true,
                "y_pred": y_pred,
                "metrics": metrics,
                "path": str(path),
            }
        except (ArchpredError, ValueError) as err:
            st.error(str(err))

    result = st.session_state.get("models_result")
    if result:
        st.success(f"Saved {result['path']}")
        m = result["metrics"]
        cols = st.columns(4)
        for col, key in zip(cols, ["kendall_tau", "spearman", "rmse", "mae"]):
            col.metric(key, f"{m[key]:.4f}")
        st.plotly_chart(
            models_page.scatter(result["y_true"], result["y_pred"], result["title"]),
            key="models_scatter",
        )
        st.dataframe(models_page.metrics_frame(m), hide_index=True)

with saved_tab:
    models = predictor_cache.saved_models_all()
    if not models:
        st.info("No saved predictors yet.")
    else:
        frame = pd.DataFrame(
            [
                {
                    "model": s.label,
                    "predictor": s.name,
                    "space": s.space,
                    "size (KB)": round(s.size_kb, 1),
                    "file": str(s.path),
                }
                for s in models
            ]
        )
        st.dataframe(frame, hide_index=True)
        labels = [s.label for s in models]
        chosen = st.selectbox("Evaluate a saved model", labels, key="models_eval_choice")
        if st.button("Evaluate on 2,000 random cells (they may include its training cells)", key="models_eval"):
            saved = models[labels.index(chosen)]
            model, err = predictor_cache.try_load(saved.path)
            target, berr = cache.try_benchmark(saved.space)
            if model is None or target is None:
                st.error(err or berr)
            else:
                _, rows = predictor_cache.split_rows(len(target), 0, 2000, 12345)
                y_true, y_pred = models_page.score(target, model, rows)
                metrics = models_page.evaluate(y_true, y_pred)
                st.session_state["models_eval_result"] = (chosen, y_true, y_pred, metrics)
        evaluated = st.session_state.get("models_eval_result")
        if evaluated:
            label, y_true, y_pred, metrics = evaluated
            st.plotly_chart(models_page.scatter(y_true, y_pred, label), key="models_eval_scatter")
            st.dataframe(models_page.metrics_frame(metrics), hide_index=True)
