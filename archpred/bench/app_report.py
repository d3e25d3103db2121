"""``bench app``'s Markdown report, rendered from its results (``reports/app.json``)."""

from __future__ import annotations

from typing import Any


def seconds(x: float | None) -> str:
    """``1.23 s``, ``45 ms``; ``–`` for a missing value."""
    if x is None:
        return "–"
    return f"{x * 1000:.1f} ms" if x < 0.1 else f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def render(results: dict[str, Any]) -> str:
    """The whole report; a part that did not run is left out."""
    sections = [_header(results)]
    for part, fn in (("imports", _imports), ("browser", _browser), ("edit", _edit), ("projections", _projections)):
        if part in results:
            sections.append(fn(results[part], results["command"]))
    return "\n\n".join(sections) + "\n"


def _header(results: dict[str, Any]) -> str:
    meta, cfg = results["meta"], results["config"]
    load = f"{meta['load_average_start']} at the start, {meta.get('load_average_end')} at the end"
    return f"""# App: what users feel (issue #16 item 8)

Command: `{results["command"]}` ({meta["date"]}, commit {meta["commit"]}). Every number below comes
from that one command; the raw timings are in the JSON beside this file.

Machine: {meta["cores"]} cores ({meta["processor"]}), Python {meta["python"]}, Streamlit {meta["streamlit"]};
benchmark data present: {", ".join(meta["data"])}. 1/5/15-min load averages {load}. **Other jobs shared
the CPU, so the numbers are indicative**: a quiet machine is faster. Medians over {cfg["runs"]} runs."""


def _imports(r: dict[str, Any], command: str) -> str:
    heavy = ", ".join(r["heavy"]) or "none"
    top = "\n".join(f"| `{name}` | {seconds(s)} |" for name, s in r.get("top_imports", []))
    chains = "".join(
        f"\n- `{m}` first imported at "
        + " -> ".join(f"`{c}`" for c in r["where"].get(m) or ["?"])
        + (
            " (import chain: " + " -> ".join(f"`{c}`" for c in r["chains"][m]) + ")"
            if len(r.get("chains", {}).get(m, [])) > 1
            else ""
        )
        for m in r["loaded"]
    )
    return f"""## The first page's imports

`app.py` run once by AppTest in a new process under `python -X importtime` (`{command}`):
the first page ({", ".join(r["titles"])}) loaded {", ".join(f"`{m}`" for m in r["loaded"]) or "none"}
of the watched modules. Heavy ones (umap, numba, torch_geometric) on its path: **{heavy}**.
{chains}

The whole process took {seconds(r["process_s"])} (start, imports, one run of the page).

| slowest top-level imports | cumulative |
| --- | --- |
{top}"""


def _browser(r: dict[str, Any], command: str) -> str:
    if "skipped" in r:
        return f"## Cold start and page switches (browser)\n\nSkipped: {r['skipped']}."
    rows = {
        "server answers `/_stcore/health`": "server_s",
        "first page's title shown": "title_s",
        "first page's content shown (its table loaded)": "content_s",
        "first page's script run finished": "idle_s",
    }
    cold = "\n".join(
        f"| {label} | **{seconds(r['cold_start'][k]['median'])}** | {seconds(r['cold_start'][k]['min'])} | "
        f"{seconds(r['cold_start'][k]['max'])} |"
        for label, k in rows.items()
    )
    return f"""## Cold start to the first page (browser)

`{command}`: `streamlit run app.py` started anew for each of {len(r["runs"])} runs, the page opened in
headless Chromium (Playwright); seconds from starting the server. Exceptions shown: {r["exceptions"]}.

| from starting the server to | median | min | max |
| --- | --- | --- | --- |
{cold}
{_pages(r["pages"], command, len(r["runs"]))}"""


def _visit(v: dict[str, Any] | None) -> str:
    if v is None:
        return "–"
    if v["idle_s"] is None:
        return "timed out"
    late = v.get("timeouts") or v.get("error")
    return f"{seconds(v['idle_s'])} ({seconds(v['title_s'])})" + (" + timeouts: " + str(late) if late else "")


def _pages(pages: dict[str, Any], command: str, runs: int) -> str:
    if not pages:
        return ""
    later = f"first visit, median of runs 2–{runs} | " if runs > 1 else ""
    body = "\n".join(
        f"| {title} | {_visit(p['first_run1'])} | "
        + (f"{_visit(p['first_later'])} | " if runs > 1 else "")
        + f"**{_visit(p['again'])}** | {p['exceptions']} |"
        for title, p in pages.items()
    )
    known = (
        f"; runs 2–{runs} found the disk cache the earlier runs left (a new server, a known machine)"
        if runs > 1
        else ""
    )
    return f"""
## Page switches (browser)

`{command}`: in the same browser, each page of the menu clicked in turn, twice round, in every run.
Seconds from the click until the page's script run finished (in brackets: until its title showed).
Run 1 started with an empty `$ARCHPRED_CACHE_DIR` (a new machine: embeddings and projections are
computed){known}.

| page | first visit, run 1 (empty disk cache) | {later}revisit, median | exceptions |
| --- | --- | {"--- | " if runs > 1 else ""}--- | --- |
{body}"""


def _edit(r: dict[str, Any], command: str) -> str:
    run = r["run"]
    phases = "\n".join(f"| {name} | {seconds(p['median'])} |" for name, p in r["phases"].items())
    return f"""## Edit -> new predictions (server time)

`{command}`: the Cell editor page (`pages/cell_editor.py`) under AppTest on {r["space"]}, device
{r["device"]}: after one warm-up run ({seconds(r["warm_up_s"])}: loads the benchmark and the
{r["predictors"]} saved predictors), a new random cell (seeded) typed into the JSON box and `run()`,
until the page has shown its {r["predictors"]} predictions. No network or browser time.

**Median {seconds(run["median"])}** (min {seconds(run["min"])}, max {seconds(run["max"])}, {run["n"]} cells).

The same work per cell timed apart, outside Streamlit (median):

| phase | median |
| --- | --- |
{phases}"""


def _projections(r: dict[str, Any], command: str) -> str:
    rows = "\n".join(
        f"| {method} | {seconds(m['first_in_process'])} | **{seconds(m['first_later']['median'])}** | "
        f"**{seconds(m['cached_summary']['median'])}** |"
        for method, m in r["methods"].items()
    )
    emb = r["embeddings"]
    return f"""## Projections, first and cached

`{command}`: the Embedding map's default, {r["kind"]} embeddings of the {r["cells"]:,} {r["bench"]} cells,
{r["rows"]:,} of them projected (the map's rows), through `{r["via"]}` with `$ARCHPRED_CACHE_DIR` a
new temporary folder. Embedding every cell first (disk and memory caches emptied each run):
**median {seconds(emb["median"])}** (min {seconds(emb["min"])}, max {seconds(emb["max"])}; the first
run also loads the model).

| projection | first call in the process (imports, JIT) | first, cache emptied (median) | cached (median) |
| --- | --- | --- | --- |
{rows}"""
