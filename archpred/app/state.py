"""The session state pages share, behind typed getters and setters.

Pages never read or write these keys themselves: a cell, the device or a result goes from one
page to another through the functions here, so a key is spelt once.

- **Current cell**, one per search space (``set_current_cell`` / ``current_cell``), plus which
  space was set last (``latest_cell``): the cell editor sets it; the latent walk, the train page
  and search pages read it.
- **The address** (``st.query_params``): setting the current cell also writes ``?space=&cell=``
  (``url_text``: an NB-201 string, a Macro key, else compact JSON), so a copied link
  (``share_link``) opens the same cell on the same page (``cell_from_url`` / ``new_url_cell``).
  The compare page's second cell (``set_second_cell``) goes to ``&cell_b=``. Nothing else
  writes the address.
- **Incoming cell** (``send_to_editor`` / ``take_incoming``): a page asks the cell editor to
  open a cell; the editor takes it once.
- **Editor text** (``editor_text_key`` / ``set_editor_text``): the editor's JSON text area per
  space, which buttons and forms fill before the widget is drawn.
- **Device** (``device`` / ``set_device``): the one device setting of the app (sidebar).
- **Results** (``result`` / ``set_result``): the last result a page computed, kept across reruns.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import streamlit as st

from archpred.errors import InvalidArchitecture
from archpred.spaces import Architecture, get_space

CELLS_KEY = "state_cells"  # {space: arch dict}
LATEST_KEY = "state_cell_space"  # the space whose cell was set last
INCOMING_KEY = "editor_incoming"  # {"space": str, "arch": dict}, taken once by the editor
DEVICE_KEY = "app_device"  # the setting (kept on pages that do not draw the sidebar widget)
DEVICE_WIDGET = "app_device_choice"  # the sidebar's widget, copied into DEVICE_KEY on change
DEFAULT_DEVICE = "auto"
SECOND_KEY = "state_second_cells"  # {space: arch dict}: the compare page's cell B
URL_SPACE, URL_CELL, URL_CELL_B = "space", "cell", "cell_b"  # query parameters of a shared link


def _cells() -> dict[str, dict[str, Any]]:
    return st.session_state.setdefault(CELLS_KEY, {})


def _build(space: str, arch: dict[str, Any]) -> Architecture:
    """A cell from its stored dict; a corrupt entry is an ``InvalidArchitecture``."""
    try:
        return get_space(space).cell(**arch)
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidArchitecture(f"stored {space} cell: {err}") from None


# -- current cell ------------------------------------------------------------------------------
def set_current_cell(space: str, arch: Architecture) -> None:
    """Make ``arch`` the current cell of ``space`` (and the latest cell of any space), and put
    it in the address (``?space=...&cell=...``) so a copied link opens it."""
    _cells()[space] = arch.to_dict()
    st.session_state[LATEST_KEY] = space
    _set_url({URL_SPACE: space, URL_CELL: url_text(arch)})


def current_cell(space: str) -> Architecture | None:
    """The current cell of ``space``, or ``None`` when no page has set one."""
    stored = _cells().get(space)
    return None if stored is None else _build(space, stored)


def latest_cell() -> tuple[str, Architecture] | None:
    """``(space, cell)`` of the cell set last, in any space; ``None`` when none was set.

    Raises ``InvalidArchitecture`` when the stored cell cannot be rebuilt.
    """
    space = st.session_state.get(LATEST_KEY)
    if space is None or space not in _cells():
        return None
    return space, _build(space, _cells()[space])


# -- the compare page's second cell -----------------------------------------------------------
def set_second_cell(space: str, arch: Architecture) -> None:
    """Make ``arch`` the second cell of ``space`` (the compare page's cell B), also in the address."""
    st.session_state.setdefault(SECOND_KEY, {})[space] = arch.to_dict()
    _set_url({URL_CELL_B: url_text(arch)})


def second_cell(space: str) -> Architecture | None:
    """The second cell of ``space``, or ``None`` when none was set."""
    stored = st.session_state.get(SECOND_KEY, {}).get(space)
    return None if stored is None else _build(space, stored)


# -- the address: links to a cell ------------------------------------------------------------
def url_text(arch: Architecture) -> str:
    """The cell as short text that ``space.parse`` reads back: the NB-201 arch string, the
    Macro key, else compact JSON."""
    fields = arch.to_dict()
    if list(fields) == ["arch"] and isinstance(fields["arch"], str):
        return fields["arch"]
    return json.dumps(fields, separators=(",", ":"))


def _set_url(params: dict[str, str]) -> None:
    """Write query parameters that changed (each write updates the browser's address)."""
    for name, value in params.items():
        if st.query_params.get(name) != value:
            st.query_params[name] = value


def url_space() -> str | None:
    """The search space the address names (``?space=...``), checked or not."""
    return st.query_params.get(URL_SPACE) or None


def cell_from_url(param: str = URL_CELL) -> tuple[str, Architecture] | None:
    """``(space, cell)`` of the address (``param``: ``"cell"``, or ``"cell_b"`` for the compare
    page's second cell); ``None`` when the address names no cell.

    Raises ``InvalidArchitecture`` for an unknown space or a cell that is not valid in it.
    """
    space, text = st.query_params.get(URL_SPACE), st.query_params.get(param)
    if not space or not text:
        return None
    try:
        found = get_space(space)
    except ValueError:
        raise InvalidArchitecture(f"the link names an unknown search space {space!r}") from None
    return space, found.parse(text)


def new_url_cell(param: str = URL_CELL) -> tuple[str, Architecture] | None:
    """The address's cell when it is not already the current (``"cell"``) or second
    (``"cell_b"``) cell of its space: what a shared link, or an edited address, asks a page to
    open. ``None`` otherwise; raises ``InvalidArchitecture`` like ``cell_from_url``."""
    found = cell_from_url(param)
    if found is None:
        return None
    space, arch = found
    try:
        known = second_cell(space) if param == URL_CELL_B else current_cell(space)
    except InvalidArchitecture:
        known = None
    return None if known == arch else found


def share_link() -> str:
    """The link that opens this page on its cells: the browser's address (``st.context.url``,
    which includes the page) and the query; only ``?query`` where the address is unknown."""
    query = urlencode(st.query_params.to_dict(), quote_via=quote, safe="|~:,[]")
    base = getattr(st.context, "url", None) or ""
    return f"{base}?{query}" if query else base


# -- hand-off to the cell editor -------------------------------------------------------------
def send_to_editor(space: str, arch: Architecture) -> None:
    """Ask the cell editor to open ``arch`` on its next run (the caller then switches page)."""
    st.session_state[INCOMING_KEY] = {"space": space, "arch": arch.to_dict()}


def take_incoming() -> tuple[str, Architecture] | None:
    """The cell another page sent to the editor, once; ``None`` when none is waiting.

    Raises ``InvalidArchitecture`` when the sent cell is not valid in its space.
    """
    incoming = st.session_state.pop(INCOMING_KEY, None)
    if not isinstance(incoming, dict) or "space" not in incoming:
        return None
    return incoming["space"], _build(incoming["space"], incoming.get("arch", {}))


def editor_text_key(space: str) -> str:
    """The widget key of the editor's JSON text for ``space``."""
    return f"editor_json_{space}"


def editor_text(space: str) -> str | None:
    """The editor's JSON text for ``space``, ``None`` before the editor first showed it."""
    return st.session_state.get(editor_text_key(space))


def set_editor_text(space: str, text: str) -> None:
    """Fill the editor's JSON text (call before its widget is drawn in this run)."""
    st.session_state[editor_text_key(space)] = text


# -- device ------------------------------------------------------------------------------------
def device() -> str:
    """The app's device setting: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``."""
    return str(st.session_state.get(DEVICE_KEY) or DEFAULT_DEVICE)


def set_device(value: str) -> None:
    """Store the device setting (pages resolve it with ``ui.device_or_stop``)."""
    st.session_state[DEVICE_KEY] = value


def device_from_widget() -> None:
    """``on_change`` of the sidebar's device widget: store its value as the setting."""
    set_device(str(st.session_state[DEVICE_WIDGET]))


# -- per-page results and counters -----------------------------------------------------------
def result(name: str) -> Any:
    """The last result stored under ``name`` (e.g. ``"models_result"``), or ``None``."""
    return st.session_state.get(name)


def set_result(name: str, value: Any) -> None:
    """Keep a page's result for later reruns."""
    st.session_state[name] = value


def next_seed(name: str) -> int:
    """A per-session counter (1, 2, ...) for buttons that draw a new random cell each click."""
    value = int(st.session_state.get(name, 0)) + 1
    st.session_state[name] = value
    return value


def forget(*names: str) -> None:
    """Drop page-local keys (e.g. to reset text areas to their defaults)."""
    for name in names:
        st.session_state.pop(name, None)


def setdefault(name: str, value: Any) -> Any:
    """A page-local key's value, set to ``value`` first when absent."""
    return st.session_state.setdefault(name, value)


def value(name: str) -> Any:
    """A page-local key's value (e.g. a widget's), or ``None`` when absent."""
    return st.session_state.get(name)


def set_value(name: str, value: Any) -> None:
    """Set a page-local key (a widget's value before the widget is drawn)."""
    st.session_state[name] = value


# -- widget defaults that follow other settings ---------------------------------------------------
def follow_default(widget_key: str, default: str) -> None:
    """Give a text widget ``default`` unless the user typed a value of their own: a default
    that was shown and left alone follows the settings it was made from (call before drawing)."""
    shown = f"{widget_key}__default"
    current = st.session_state.get(widget_key)
    if current is None or current == st.session_state.get(shown):
        st.session_state[widget_key] = default
    st.session_state[shown] = default
