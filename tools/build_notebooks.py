"""Build the tour notebooks in `notebooks/` from the cells below, executed, ready to commit.

    python tools/build_notebooks.py              # every tour notebook
    python tools/build_notebooks.py 02 04        # only those whose name starts with 02 / 04
    python tools/build_notebooks.py --no-execute # write them unexecuted (quick look at the text)

Why a generator: a notebook edited by hand drifts (stale outputs, random cell ids, widget
state, timings, a path from someone's machine). Here the cells are Python data; each notebook
is executed from scratch by nbclient, in `notebooks/`, on the offline simulator (the real keys
and `IDEOGRAM_NB_PROVIDER` are removed from the kernel's environment) with `IDEOGRAM_NB_HOME`
pointing at a fresh temporary folder, exactly as `notebooks/conftest.py` runs them under nbval.
Then widget state is stripped, widget outputs get a one-line text fallback, ids that change on
every run (history run ids, a comparison's random id) become placeholders, split stream outputs
are merged, and the file is written. Rebuilding without changing a cell gives the same bytes
(unless a new Pillow encodes the previews differently): a diff of the notebooks is a diff of
what a reader sees.

Cells whose first line is `# NBVAL_CHECK_OUTPUT` are compared by `pytest --nbval-lax
notebooks/`: they print deterministic summaries only (counts, sizes, seeds, costs, hashes).
`notebooks/studio.ipynb` is not built here (it belongs to the browser tests).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: What the kernel must never see while building: real keys, a chosen provider, another host.
SCRUBBED_ENV = ("IDEOGRAM_API_KEY", "AIHUBMIX_API_KEY", "IDEOGRAM_NB_PROVIDER", "IDEOGRAM_NB_BASE_URL")
HOME_ENV = "IDEOGRAM_NB_HOME"
#: A history run id (`History.new_run_id`): time-stamped and random, so never committed.
RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{12}\b")
RUN_ID_PLACEHOLDER = "<run id>"
#: A comparison's id (random hex, in its repr): the same story.
COMPARISON_ID = re.compile(r"\b(Comparison) [0-9a-f]{8}\b")
COMPARISON_ID_PLACEHOLDER = r"\1 <id>"


def md(text: str) -> tuple[str, str]:
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", textwrap.dedent(text).strip("\n"))


def checked(text: str) -> tuple[str, str]:
    """A code cell whose output nbval compares: it must print only deterministic facts."""
    return ("code", CHECK + "\n" + textwrap.dedent(text).strip("\n"))


OFFLINE_NOTE = """
    > **No key needed.** With no API key set, `ig.Client()` runs on the built-in offline
    > simulator of the Ideogram API (it says so once) and the images are synthetic. With
    > `IDEOGRAM_API_KEY` or `AIHUBMIX_API_KEY` set, the very same cells call the real service
    > and are billed ({cost}); the printed hashes then differ from the ones saved here.
"""


def offline_note(cost: str) -> tuple[str, str]:
    return md(OFFLINE_NOTE.format(cost=cost))


# --- 01 -------------------------------------------------------------------------------------------
QUICKSTART = [
    md("""
    # Quickstart: the Ideogram API in a notebook

    One **spec** per endpoint describes a request. It checks itself before anything is sent,
    knows what it will cost, and becomes a form when you want one. A **client** runs specs,
    downloads every image at once (the service's URLs expire) and records each call in a local
    history.
    """),
    offline_note("about $0.24 for this notebook"),
    code("""
    import ideogram_nb as ig

    client = ig.Client()  # no provider named: IDEOGRAM_NB_PROVIDER, else a key, else the simulator
    client.provider
    """),
    md("""
    ## A request is a spec

    Field names are the API's own (`prompt`, `num_images`, `rendering_speed`, …), so the
    Ideogram docs apply as they are. Only fields you set are sent. Without a `seed` every run
    gives new images, as on the real service; with one, the same images every time.
    """),
    code("""
    spec = ig.Generate(prompt="a lighthouse at dusk", num_images=2, seed=7)
    spec
    """),
    md("""
    ## What will it cost?

    The estimate comes from the price table, before any call: per image, by rendering speed.
    """),
    checked("""
    print(f"this spec: ${spec.estimate_cost():.2f}")
    for speed in ["TURBO", "DEFAULT", "QUALITY"]:
        print(f"{speed:8} ${spec.copy(rendering_speed=speed).estimate_cost():.2f}")
    """),
    md("""
    ## Run it

    `client.run(spec)` blocks until the images are downloaded and recorded;
    `client.submit(spec)` does the same in the background and returns a future.
    `result.summary()` is a small deterministic digest: endpoint, counts, sizes, seeds, cost.
    """),
    checked("""
    result = client.run(spec)
    print(result.summary())
    for image in result.images:
        print(image.seed, image.resolution, image.sha256[:12])
    """),
    md("""
    Each image is already a local PNG (`image.path`) in the history's image store. Here are
    small previews; `image.open()` gives the full image as a PIL image.
    """),
    code("""
    from IPython.display import Image, display

    for image in result.images:
        display(Image(client.history.store.thumbnail(image.sha256, 256)))
    """),
    md("""
    ## Mistakes are caught before money is spent

    A spec refuses a bad value as soon as it is set, and `validate()` (which the client calls
    before sending) checks the rules between fields. Either way, every problem is named at once
    and nothing leaves the machine.
    """),
    checked("""
    try:
        ig.Generate(prompt="a lighthouse", num_images=12, rendering_speed="FASTEST")
    except ig.SpecError as err:
        print(err)

    try:
        ig.Generate(prompt="  ", aspect_ratio="16x9", resolution="1024x1024").validate()
    except ig.SpecError as err:
        print(err)
    """),
    md("""
    ## The same spec as a form

    `SpecForm` is two-way linked to the spec: change a field here and `spec` changes, set
    `spec.num_images = 1` in code and the form follows. Each field's tooltip is the API's
    documentation; the cost updates as you type; **Run** works in the background and fills a
    result grid with per-image actions (remix, edit, upscale, describe, reuse seed, save).
    """),
    code("""
    from ideogram_nb.widgets import SpecForm

    form = SpecForm(spec, client)
    form
    """),
    md("""
    Clicking **Run** is the same as `form.run()`: it returns a future, and the grid above fills
    in when the result arrives.
    """),
    checked("""
    print(form.run().result().summary())
    """),
    md("""
    Next: [editing with a mask](02_edit_with_mask.ipynb) ·
    [A/B and X/Y comparisons](03_compare.ipynb) ·
    [history, export and replay](04_history_and_replay.ipynb) ·
    [all ten endpoints](05_all_endpoints.ipynb)
    """),
]

# --- 02 -------------------------------------------------------------------------------------------
EDIT = [
    md("""
    # Edit an image with a mask

    The edit endpoints repaint only a region of an image. The region is a **mask**: black =
    edit, white = keep, exactly the image's size. `MaskPainter` lets you paint it over the
    image with a brush, eraser or rectangle; the mask itself lives in Python, so everything
    below also works from code — which keeps this notebook deterministic.
    """),
    offline_note("about $0.14 for this notebook"),
    code("""
    import numpy as np
    from IPython.display import Image, display

    import ideogram_nb as ig
    from ideogram_nb.widgets import MaskPainter

    client = ig.Client()
    """),
    md("""
    ## A source image

    Any path, bytes, PIL image or earlier result works as an input image. Here we make one.
    The seed is pinned so the hashes printed below are the same on every run.
    """),
    code("""
    source = client.run(
        ig.Generate(prompt="a red boat on a calm lake", aspect_ratio="4x3", rendering_speed="TURBO", seed=11)
    ).images[0]
    display(Image(client.history.store.thumbnail(source.sha256, 384)))
    """),
    checked("""
    print(source.resolution, source.seed, source.sha256[:12])
    """),
    md("""
    ## Paint the region to change

    In a live notebook you paint with the mouse. Here we paint from code, in **source
    pixels**, with the same methods the buttons use: each call is one undoable step.
    """),
    code("""
    painter = MaskPainter(source)
    painter.rect(380, 260, 780, 640)                          # the boat
    painter.stroke([(820, 560), (960, 600)], radius=40)       # its reflection
    painter
    """),
    checked("""
    print(f"mask {painter.mask.width}x{painter.mask.height}, edit area {painter.coverage:.1%}")
    painter.undo()
    print(f"after undo: {painter.coverage:.1%}")
    painter.redo()
    print(f"after redo: {painter.coverage:.1%}")
    """),
    md("""
    ## The exact mask that will be sent

    This is `painter.to_png()`, the bytes the endpoint receives (the painter's **Preview mask**
    button shows the same): pure black and white, at the source size.
    """),
    code("""
    mask_png = painter.to_png()
    display(Image(mask_png, width=384))
    """),
    checked("""
    import hashlib
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(mask_png)) as m:
        print(m.format, m.mode, m.size, "values:", np.unique(np.asarray(m)).tolist())
    print("mask sha256:", hashlib.sha256(mask_png).hexdigest()[:12])
    """),
    md("""
    ## Edit (Ideogram 3.0)

    The painter itself is a valid `mask=`: the spec takes its current mask.
    """),
    code("""
    edit = client.run(
        ig.Edit(prompt="a white swan", image=source, mask=painter, rendering_speed="TURBO", seed=3)
    )
    display(Image(client.history.store.thumbnail(edit.images[0].sha256, 384)))
    """),
    md("""
    ## Did only the masked pixels change?

    Compare source and result pixel by pixel with numpy. On the simulator nothing outside the
    mask moves at all; the real service re-renders the image, so expect small differences there.
    """),
    code("""
    def changed_pixels(result_image):
        before = source.open().convert("RGB")
        after = result_image.open().convert("RGB").resize(before.size)  # same size: an exact copy
        before, after = np.asarray(before, dtype=np.int16), np.asarray(after, dtype=np.int16)
        changed = (before != after).any(axis=2)
        inside = painter.mask.array  # True = edit
        return int(changed[~inside].sum()), int(changed[inside].sum()), int(inside.sum())
    """),
    checked("""
    print(edit.summary(), edit.images[0].sha256[:12])
    outside, inside, masked = changed_pixels(edit.images[0])
    print(f"changed outside the mask: {outside}")
    print(f"changed inside the mask:  {inside} of {masked}")
    """),
    md("""
    ## The legacy edit (V_2)

    The V1/V2 edit endpoint takes the same image and mask; it works only with the `V_2` and
    `V_2_TURBO` models, and the spec says so before anything is sent.
    """),
    checked("""
    try:
        ig.LegacyEdit(prompt="a white swan", image=source, mask=painter, model="V_2A")
    except ig.SpecError as err:
        print(err)
    """),
    code("""
    legacy = client.run(ig.LegacyEdit(prompt="a white swan", image=source, mask=painter, model="V_2", seed=3))
    display(Image(client.history.store.thumbnail(legacy.images[0].sha256, 384)))
    """),
    checked("""
    print(legacy.summary(), legacy.images[0].sha256[:12])
    outside, inside, masked = changed_pixels(legacy.images[0])
    print(f"changed outside the mask: {outside}")
    """),
]

# --- 03 -------------------------------------------------------------------------------------------
COMPARE = [
    md("""
    # Compare: A/B pairs and X/Y grids

    `ig.compare(spec, **axes)` plans a grid of variations of one spec. Before anything runs,
    every cell is validated and the call count and cost are known (a `budget_usd=` refuses to
    start over budget). One seed is shared by all cells unless the seed is an axis, so the
    differences you see come from the field you varied.
    """),
    offline_note("about $0.39 for this notebook"),
    code("""
    import ideogram_nb as ig
    from ideogram_nb.widgets import ComparisonGrid

    client = ig.Client()
    base = ig.Generate(prompt="a red fox", rendering_speed="TURBO")
    """),
    md("""
    ## A/B: two prompts, two seeds each

    An axis with two values is an A/B comparison; a seed axis gives each side several samples,
    so one lucky seed does not decide.
    """),
    code("""
    ab = ig.compare(base, client, prompt=["a red fox in the snow", "a red fox in the rain"], seed=[1, 2])
    """),
    checked("""
    print(f"{ab.shape} grid: {ab.n_calls} calls, {ab.n_images} images, ${ab.estimate_cost():.2f}")
    print("what differs:", [(a, b) for tag, a, b in ab.diff() if tag != "equal"])
    """),
    code("""
    ab.run()
    ab  # the differing words are highlighted, one row per seed
    """),
    checked("""
    for a, b in ab.pairs():
        print(f"seed {a.spec.seed}: A {a.images[0].sha256[:12]}  B {b.images[0].sha256[:12]}")
    """),
    md("""
    Votes go into the history, so a long evaluation can be tallied later (a later vote on the
    same pair replaces the earlier one). A pair is named by its index or by its seed.
    """),
    checked("""
    ab.vote(0, "A")
    ab.vote(2, "B", note="the rain reads better")
    print(ab.tally())
    """),
    md("""
    ## X/Y: style × rendering speed

    Three styles across, two rendering speeds down: six calls. Check the cost first.
    """),
    code("""
    grid = ig.compare(
        ig.Generate(prompt="a lighthouse on a cliff", seed=5),
        client,
        style_type=["GENERAL", "REALISTIC", "DESIGN"],
        rendering_speed=["TURBO", "DEFAULT"],
    )
    """),
    checked("""
    print(f"{grid.shape} grid: {grid.n_calls} calls, ${grid.estimate_cost():.2f}, one shared seed: {grid.seed}")
    """),
    md("""
    A budget refuses the whole grid before the first call:
    """),
    checked("""
    try:
        ig.compare(grid.base, client, budget_usd=0.10, style_type=["GENERAL", "REALISTIC", "DESIGN"],
                   rendering_speed=["TURBO", "DEFAULT"])
    except ig.BudgetError as err:
        print(type(err).__name__, "-", str(err).split(": ", 1)[1])
    """),
    md("""
    `ComparisonGrid` shows the grid live: cells fill in as calls finish, failed cells get a
    retry button, **Swap axes** re-arranges without re-running, and clicking a cell opens it in
    a prefilled form.
    """),
    code("""
    view = ComparisonGrid(grid)
    view
    """),
    code("""
    view.run().result();  # the same as clicking Run
    """),
    checked("""
    for row in grid.to_records():
        print(f"{row['legend']:45} seeds {row['seeds']}  {row['sha256s'][0][:12]}  ${row['cost']:.2f}")
    """),
    md("""
    ## A contact sheet

    `to_image()` stitches the grid into one labelled PNG (split into pages when it is huge).
    The axis set-up travels in its metadata: `ig.Comparison.from_image(path)` plans the same
    grid again.
    """),
    code("""
    from PIL import Image as PILImage

    sheets = grid.to_image(client.history.path / "sheets" / "lighthouse.png", cell_px=128)
    PILImage.open(sheets[0])
    """),
    checked("""
    again = ig.Comparison.from_image(sheets[0], client)
    print(len(sheets), "page;", "rebuilt:", again.shape, again.n_calls, "calls, seed", again.seed)
    """),
    md("""
    ## Ranges, A1111-style

    Integer fields take ranges: `"10-90 [3]"` is three values from 10 to 90, `"1-10 (+3)"`
    counts in steps of 3. Planning costs nothing; run it with `.run()` when the cost suits you.
    """),
    checked("""
    source = grid[("GENERAL", "TURBO")].images[0]
    weights = ig.compare(ig.Remix(prompt="a lighthouse, woodcut", image=source, rendering_speed="TURBO", seed=5),
                         client, image_weight="10-90 [3]")
    print(weights.axes[0].values, f"{weights.n_calls} calls, ${weights.estimate_cost():.2f}")
    """),
]

# --- 04 -------------------------------------------------------------------------------------------
HISTORY = [
    md("""
    # History, export and replay

    Every call is recorded — success or failure — in a small SQLite history beside your
    notebooks (`./ideogram_runs`, or the folder in `IDEOGRAM_NB_HOME`), with every image in a
    content-addressed store. That makes three things possible: browsing what you did, exporting
    it as a notebook, and **replaying** it byte for byte with nothing sent and nothing billed.
    """),
    offline_note("about $0.09 for this notebook"),
    code("""
    import hashlib

    import ideogram_nb as ig
    from ideogram_nb.widgets import HistoryBrowser

    client = ig.Client()
    history = client.history
    """),
    md("""
    A few runs to look at: a picture, a remix of it, and a description. Seeds are pinned so
    the hashes below are stable.
    """),
    code("""
    first = client.run(ig.Generate(prompt="a lighthouse at dusk", rendering_speed="TURBO", seed=1), label="tour")
    remix = client.run(
        ig.Remix(prompt="a lighthouse at dusk, woodcut", image=first.images[0], image_weight=70,
                 rendering_speed="TURBO", seed=2),
        label="tour",
    )
    words = client.run(ig.Describe(image=first.images[0]))
    """),
    md("""
    ## Browse

    `HistoryBrowser` lists runs newest first with thumbnails, filters (endpoint, provider,
    status, text, label), cost totals and pages; tick runs to export them, or re-run one.
    """),
    code("""
    HistoryBrowser(history)
    """),
    md("""
    The same data from code: `history.runs(...)` filters, `to_records()` gives plain dicts
    (oldest first), ready for pandas.
    """),
    checked("""
    tour = history.runs(label="tour")
    print(len(history), "runs,", f"${history.total_cost():.2f}", "estimated,", len(tour), "labelled 'tour'")
    for rec in history.to_records():
        shas = [im["sha256"][:12] for im in rec["images"]]
        print(f"{rec['endpoint']:9} {rec['status']:3} {rec['provider']:8} ${rec['cost_usd']:.2f} {shas} {rec['label']}")
    """),
    md("""
    ## Export as a notebook

    `export_notebook` writes one cell per run that rebuilds the spec and runs it, with small
    JPEG previews as stored outputs. Its client names no provider: executed with
    `IDEOGRAM_NB_PROVIDER=replay` (e.g. `IDEOGRAM_NB_PROVIDER=replay jupyter execute tour_runs.ipynb`)
    it reproduces every image from this history at no cost. We write it into the history
    folder, so it travels with the images it refers to.
    """),
    code("""
    exported = history.export_notebook(history.path / "tour_runs.ipynb", title="Tour runs", overwrite=True)
    """),
    checked("""
    import nbformat

    nb = nbformat.read(exported, as_version=4)
    print(len(nb.cells), "cells:", " ".join(cell.cell_type[0] for cell in nb.cells))
    print(nb.cells[3].source)
    """),
    md("""
    ## Replay: the same images, nothing sent

    A replay client answers only from the history. The same request gives the very same bytes
    (the stored file hashes to the recorded sha256) and costs nothing.
    """),
    code("""
    replay = ig.Client(provider="replay")
    again = replay.run(ig.Generate(prompt="a lighthouse at dusk", rendering_speed="TURBO", seed=1))
    """),
    checked("""
    stored = hashlib.sha256(again.images[0].path.read_bytes()).hexdigest()
    print(again.provider, f"cost ${again.cost_usd:.2f}")
    recorded = first.images[0].sha256
    print("recorded:", recorded[:12], " replayed:", stored[:12], " identical:", stored == recorded)
    """),
    md("""
    A request that was never recorded is refused with `ReplayMiss`, and nothing is sent:
    """),
    checked("""
    try:
        replay.run(ig.Generate(prompt="a lighthouse at dawn", rendering_speed="TURBO", seed=1))
    except ig.ReplayMiss as err:
        print(f"{type(err).__name__}: {err}")
    """),
    md("""
    ## The record inside each image

    Every saved PNG carries its own record (endpoint, spec, seed, provider — no ids, no
    timestamps) in a text chunk, plus an A1111-style `parameters` line. Share the file and the
    recipe goes with it: `spec_from_image` rebuilds the spec that made it.
    """),
    checked("""
    meta = ig.read_metadata(remix.images[0].path)
    print({k: v for k, v in meta.items() if k != "version"})
    rebuilt = ig.spec_from_image(first.images[0].path)
    print(rebuilt)
    print("same request:", client.run(rebuilt).images[0].sha256 == first.images[0].sha256)
    """),
]

# --- 05 -------------------------------------------------------------------------------------------
ALL_ENDPOINTS = [
    md("""
    # All ten endpoints

    Five Ideogram 3.0 endpoints and five V1/V2 ("legacy") ones, each called once. Image inputs
    take a path, bytes, a PIL image or an earlier result; masks take a `Mask` or a
    `MaskPainter`. Seeds are pinned so every printed hash is reproducible.
    """),
    offline_note("about $0.39 for this notebook"),
    code("""
    import ideogram_nb as ig

    client = ig.Client()
    source = client.run(ig.Generate(prompt="a lighthouse at dusk", rendering_speed="TURBO", seed=1))
    image = source.images[0]            # square (1x1 is the default): reframe needs a square input
    width, height = image.size

    mask = ig.Mask.for_image(image)     # the region to edit: the lower half
    mask.rect(0, height // 2, width, height)
    """),
    code("""
    specs = [
        ig.Remix(prompt="a lighthouse at dusk, woodcut", image=image, image_weight=70, rendering_speed="TURBO", seed=2),
        ig.Edit(prompt="stormy sea", image=image, mask=mask, rendering_speed="TURBO", seed=3),
        ig.Reframe(image=image, resolution="1536x640", rendering_speed="TURBO", seed=4),
        ig.ReplaceBackground(prompt="a snowy forest", image=image, rendering_speed="TURBO", seed=5),
        ig.LegacyGenerate(prompt="a lighthouse at dusk", model="V_2_TURBO", seed=6),
        ig.LegacyRemix(prompt="a lighthouse at dusk, poster", image=image, model="V_2_TURBO", seed=7),
        ig.LegacyEdit(prompt="stormy sea", image=image, mask=mask, model="V_2", seed=8),
        ig.Upscale(image=image, seed=9),
        ig.Describe(image=image),
    ]
    print(f"{len(specs)} more calls, ${sum(s.estimate_cost() for s in specs):.2f} estimated")
    """),
    md("""
    `run_many` runs them concurrently (at most 10 images in flight, as the service allows) and
    keeps their order; a failure would come back as a result with `error` set, never losing
    the others.
    """),
    code("""
    results = [source, *client.run_many(specs)]
    """),
    checked("""
    print(f"{'endpoint':19}{'ok':4}{'n':>2}  {'size':11}{'seed':>6}  {'sha256':13}{'cost':>6}")
    for r in results:
        s = r.summary()
        im = r.images[0] if r.images else None
        size = "x".join(map(str, im.size)) if im else "-"
        sha = (im.sha256 or "withheld")[:12] if im else "-"
        print(f"{s['endpoint']:19}{str(s['ok']):4}{s['images'] or len(r.descriptions):>2}  {size:11}"
              f"{str(im.seed) if im else '-':>6}  {sha:13}{s['cost_usd']:>6.2f}")
    print(f"total ${sum(r.cost_usd for r in results):.2f}")
    """),
    checked("""
    for text in results[-1].descriptions:
        print("-", text)
    """),
    code("""
    import base64

    from IPython.display import HTML

    def preview(result, px=160):
        jpeg = client.history.store.thumbnail(result.images[0].sha256, px)
        src = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        caption = f"<figcaption>{result.endpoint}</figcaption>"
        return f"<figure style='display:inline-block;margin:4px'><img src='{src}'>{caption}</figure>"

    HTML("".join(preview(r) for r in results if r.images and r.images[0].sha256))
    """),
]

# --- 06 -------------------------------------------------------------------------------------------
V2 = [
    md("""
    # Ideogram v2: 4.5, precise edits, exact quotes, jobs that survive a restart

    Ideogram's current API (`/v2/...`) has its flagship model 4.5, a **precise edit** that keeps
    everything the instruction does not mention, a free **dry run** that quotes the exact price,
    and **jobs** that answer at once with a `generation_id` to poll. This notebook runs all four
    on the offline simulator. v2 is for the direct provider (an `IDEOGRAM_API_KEY`) and the
    simulator: AiHubMix documents no v2 routes, so a v2 spec is refused there before sending.
    """),
    offline_note("4.5 prices are quoted by the service itself"),
    code("""
    from IPython.display import Image, display

    import ideogram_nb as ig
    from ideogram_nb.simulator import SimulatorTransport
    from ideogram_nb.widgets import MaskPainter

    # One simulator shared by two clients below, to play a kernel restart (a plain
    # `ig.Client()` makes its own). `latency`: each job takes two seconds.
    sim = SimulatorTransport(latency=2.0)
    client = ig.Client(provider="offline", transport=sim)
    """),
    md("""
    ## Generate with 4.5

    `quality` (`very_low` … `high`) replaces v3's rendering speed; `size` is `auto`, `source` or a
    1K/2K preset such as `1024x1024` (up to 1024x1024 bills as 1K, above it and `auto` as 2K).
    """),
    code("""
    scene = client.run(ig.Generate45(prompt="a red boat on a calm blue lake", size="1024x1024", quality="low", seed=11))
    display(Image(client.history.store.thumbnail(scene.images[0].sha256, 320)))
    """),
    checked("""
    print(scene.summary())
    """),
    md("""
    ## A precise edit with a mask

    `PreciseEdit45` changes one image and returns it at its exact size. Paint the region to
    change (black = edit; here from code, in the image's pixels), and let `context_window="auto"`
    confine the work to the area around the mask.
    """),
    code("""
    painter = MaskPainter(scene.images[0])
    painter.rect(300, 420, 720, 700)
    edit = client.run(ig.PreciseEdit45(prompt="make the boat golden", image=scene.images[0], mask=painter,
                                       context_window="auto", quality="low", seed=3))
    display(Image(client.history.store.thumbnail(edit.images[0].sha256, 320)))
    """),
    checked("""
    print(edit.summary())
    print("rules are checked before sending:")
    try:
        ig.PreciseEdit45(prompt="x", image=scene.images[0], context_window="auto").validate()
    except ig.SpecError as error:
        print(error)
    """),
    md("""
    ## Quotes: the price before spending

    `client.quote(spec)` sends the very same request with `dry_run=true`: the service prices it
    and does nothing else (nothing generated, billed or recorded). For v1 routes, which have no
    dry run, the local price table answers, and the quote says which.
    """),
    checked("""
    runs_before = len(client.history)
    print(client.quote(ig.Generate45(prompt="four lighthouses", num_images=4)))
    print(client.quote(ig.Generate45(prompt="four lighthouses", num_images=4, quality="low", size="1024x1024")))
    print(client.quote(ig.Generate(prompt="a lighthouse", rendering_speed="TURBO")))
    print("runs recorded by quoting:", len(client.history) - runs_before)
    """),
    md("""
    ## A job that survives a kernel restart

    `client.start(spec)` sends with `async=true` and returns a `Job` at once. Its
    `generation_id` is in the history **before the first poll**, so after a restart a new client
    on the same history finishes the same paid job with `resume(run_id)`: it polls, downloads
    the images, and never submits the request again.
    """),
    checked("""
    job = client.start(ig.Generate45(prompt="a kite over green hills", size="1024x1024", quality="low", seed=5))
    print(job.status, "| in the history:", client.history[job.run_id].status, "| generation id recorded:",
          client.history[job.run_id].generation_id == job.generation_id)
    client.close()  # the kernel dies here; the history and the service remain

    after_restart = ig.Client(provider="offline", transport=sim)
    print("unfinished jobs:", len(after_restart.jobs()))
    result = after_restart.resume(job.run_id).wait()
    print(result.summary())
    print("POSTs to generate 4.5 (the first run, two quotes, the job):", sim.stats.by_route["v2-generate-4-5"])
    """),
    md("""
    ## Replace a background: always a job

    `ReplaceBackground3` keeps the detected subject and paints a new background from the prompt.
    The service runs it **only** asynchronously, so `run` takes the job path for you: it starts
    the job, records its `generation_id` (pending) before the first poll, polls and downloads.
    Interrupt it and `resume(run_id)` finishes it, as above. No seed on this route.
    """),
    code("""
    import PIL.Image, PIL.ImageDraw

    product = PIL.Image.new("RGB", (768, 512), "white")  # a studio shot: one subject on a plain backdrop
    PIL.ImageDraw.Draw(product).ellipse((284, 156, 484, 356), fill=(240, 180, 20))
    swap = after_restart.run(ig.ReplaceBackground3(prompt="a deep blue night sky", image=product,
                                                   rendering_speed="turbo"))
    display(Image(after_restart.history.store.thumbnail(swap.images[0].sha256, 320)))
    """),
    checked("""
    print(swap.ok, len(swap.images), swap.images[0].resolution, f"${swap.cost_usd:.2f}")
    print("ran as a job:", after_restart.history[swap.run_id].generation_id is not None,
          "| POSTs:", sim.stats.by_route["v2-replace-background-3"])
    """),
    md("""
    ## v2 is not offered by AiHubMix

    With an AiHubMix key, `run`, `start` and `quote` of a v2 spec raise `ig.ProviderRefusedError`
    ("AiHubMix documents no v2 routes; nothing was sent") before anything leaves: use your
    Ideogram key (`provider="ideogram"`) or the simulator for these specs. Which spec to reach
    for first, and why: `docs/v2.md`.
    """),
]

# --- 07 -------------------------------------------------------------------------------------------
DECIDE = [
    md("""
    # Decide: votes, scores, a leaderboard and a report to send

    A comparison ends in a decision. Vote in the grid where the pictures are (A, B or tie, with
    a note), measure what Ideogram is bought for with offline scores (legible text, edits that
    stay in the mask, the requested palette, sharpness, near-duplicates), let every vote in the
    history add up to a leaderboard, and send one HTML file to a colleague.
    """),
    offline_note("about $0.66 for this notebook"),
    code("""
    import ideogram_nb as ig
    from ideogram_nb.widgets import ComparisonGrid

    client = ig.Client()
    base = ig.Generate(prompt='a shop sign that says "OPEN LATE"', rendering_speed="TURBO")
    ab = ig.compare(base, client, prompt=['a shop sign that says "OPEN LATE"', 'a neon sign that says "OPEN LATE"'],
                    seed=[1, 2, 3])
    ab.run(score=True)  # each cell is scored on a background thread as it finishes
    """),
    md("""
    ## Votes where the pictures are

    Each pair gets **A**, **B** and **tie** buttons and a note, beside its two cells; a click is
    recorded in the history at once and the tally and leaderboard under the grid follow. Here
    the buttons are clicked from code, exactly as a mouse (or Tab and Enter) would.
    """),
    code("""
    grid = ComparisonGrid(ab)
    grid.vote_bars[0].buttons["B"].click()
    grid.vote_bars[1].note.value = "the neon reads better at night"
    grid.vote_bars[1].buttons["B"].click()
    grid.vote_bars[2].buttons["tie"].click()
    grid
    """),
    checked("""
    print(ab.tally())
    """),
    md("""
    ## Offline scores

    `ab.scores()` gives one row per image, each metric `None` where it does not apply. The
    prompt quotes text, so tesseract reads it back (`text_accuracy`, 0–1); there is no mask and
    no palette here, so `edit_locality` and `palette_delta_e` are `None`. Scores are stored in
    the history beside their run and computed once.
    """),
    code("""
    rows = ab.scores()
    for r in rows:
        shown = {m: r[m] for m in ("text_accuracy", "sharpness", "near_duplicate")}
        print(f"{r['legend'][:60]:60}  {shown}")
    """),
    checked("""
    print(len(rows), "images scored; metrics that apply:",
          sorted(m for m in ig.score_image(ab.cells[0].images[0], ab.cells[0].spec) if rows[0][m] is not None))
    """),
    md("""
    `ig.score_image(image, spec)` scores any image; `ig.near_duplicates(images)` finds the same
    picture twice (a difference hash).
    """),
    checked("""
    first = ab.cells[0].images[0]
    print(ig.near_duplicates([first, first, ab.cells[1].images[0]]))
    """),
    md("""
    ## An X/Y grid: pick the best of each row

    Where an axis has more than two values, each cell gets a **best …** button: the best style
    of its row is one win over every other style in that row.
    """),
    code("""
    styles = ig.compare(ig.Generate(prompt="a lighthouse at dusk", rendering_speed="TURBO", seed=5), client,
                        style_type=["AUTO", "DESIGN", "FICTION"], seed=[5, 6, 7])
    styles.run()
    styles.vote_best(styles.cell("DESIGN", 5), "style_type")
    styles.vote_best(styles.cell("DESIGN", 6), "style_type")
    styles.vote_best(styles.cell("FICTION", 7), "style_type", note="the fog")
    ComparisonGrid(styles)
    """),
    md("""
    ## The leaderboard

    `history.leaderboard(field)` ranks the values of one axis from every vote in the history
    (Bradley–Terry, fitted by `choix`): `strength` is log-odds against the average value, with a
    95 % interval. Overlapping intervals mean too few votes to tell those values apart.
    """),
    checked("""
    for field in ("prompt", "style_type"):
        for row in client.history.leaderboard(field):
            print(f"{field:10} {row['value'][:42]:42} wins {row['wins']} losses {row['losses']} ties {row['ties']}")
    """),
    code("""
    client.history.leaderboard("style_type")
    """),
    md("""
    ## A report to send

    `comparison.to_html(path)` writes one self-contained HTML file: set-up, cost, the grid
    (thumbnails inline, differing words marked), votes, scores, the leaderboard and the code
    that plans the same grid. `history.to_html(path, text=...)` does the same for any runs.
    """),
    code("""
    report = ab.to_html(client.history.path / "decide.html", overwrite=True)
    runs_report = client.history.to_html(client.history.path / "runs.html", overwrite=True, text="OPEN LATE")
    """),
    checked("""
    html = report.read_text(encoding="utf-8")
    print(report.name, "-", html.count("src='data:image/jpeg;base64,"), "images inline,",
          "external links:", html.count("http://") + html.count("https://"))
    """),
]

NOTEBOOK_CELLS: dict[str, list[tuple[str, str]]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_edit_with_mask.ipynb": EDIT,
    "03_compare.ipynb": COMPARE,
    "04_history_and_replay.ipynb": HISTORY,
    "05_all_endpoints.ipynb": ALL_ENDPOINTS,
    "06_v2.ipynb": V2,
    "07_decide.ipynb": DECIDE,
}


# --- building -------------------------------------------------------------------------------------
def make_notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(cells, start=1):
        cell_id = f"cell-{i:02d}"  # stable ids: a rebuild does not churn the diff
        if kind == "markdown":
            nb.cells.append(v4.new_markdown_cell(source, id=cell_id))
        else:
            nb.cells.append(v4.new_code_cell(source, id=cell_id))
    return nb


def scrubbed_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env[HOME_ENV] = str(home)
    return env


def execute(nb: nbformat.NotebookNode, timeout: int = 300) -> None:
    """Run every cell in `notebooks/`, with this interpreter's kernel and a fresh history."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    class ThisPython(KernelSpecManager):
        """The kernel is this interpreter (like nbval's --nbval-current-env), whatever
        `python3` kernelspec the machine has elsewhere (e.g. ~/.local/share/jupyter)."""

        def get_kernel_spec(self, kernel_name: str):  # noqa: ARG002 - one kernel only
            return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())

    with tempfile.TemporaryDirectory(prefix="ideogram_nb_build_") as tmp:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(scrubbed_environment(Path(tmp) / "home"))
        try:
            km = KernelManager(kernel_name=KERNELSPEC["name"], kernel_spec_manager=ThisPython())
            client = NotebookClient(
                nb, km=km, timeout=timeout, record_timing=False,
                resources={"metadata": {"path": str(NOTEBOOKS)}},
            )  # fmt: skip
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)


def widget_class(output: dict) -> str:
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else text
    return text.split("(", 1)[0].strip() or "widget"


def coalesce_streams(outputs: list) -> list:
    """One stdout output, not two, however the kernel happened to flush (stable diffs)."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream" and last is not None
            and last.get("output_type") == "stream" and last.get("name") == output.get("name")
        ):  # fmt: skip
            last["text"] = "".join(last["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def _scrub_ids(value: object) -> object:
    if isinstance(value, str):
        return COMPARISON_ID.sub(COMPARISON_ID_PLACEHOLDER, RUN_ID.sub(RUN_ID_PLACEHOLDER, value))
    if isinstance(value, list):
        return [_scrub_ids(v) for v in value]
    return value


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what must not be committed: widget state, per-run widget model ids, run and
    comparison ids (e.g. in a comparison's HTML view), which change on every build; and
    merge stream outputs split by the kernel's flushing."""
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {
        k: v
        for k, v in nb.metadata.get("language_info", {}).items()
        if k in ("name", "codemirror_mode", "file_extension", "mimetype", "nbconvert_exporter", "pygments_lexer")
    }  # the exact Python version is a fact about the machine that built it, not the notebook
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _scrub_ids(output["text"])
            data = output.get("data", {})
            for mime in ("text/plain", "text/html", "text/markdown"):
                if mime in data:
                    data[mime] = _scrub_ids(data[mime])
            if WIDGET_MIME in data:
                # The widget's model lives in the kernel only; with no saved state, an empty
                # model id makes JupyterLab hide the stale view and renderers without widgets
                # (GitHub, nbviewer) show this line instead of a long repr.
                name = widget_class(output)
                data[WIDGET_MIME] = {"version_major": 2, "version_minor": 0, "model_id": ""}
                data["text/plain"] = f"[{name}: an interactive widget, shown when the notebook runs]"
    return nb


def build(name: str, *, run: bool = True) -> Path:
    nb = make_notebook(NOTEBOOK_CELLS[name])
    if run:
        execute(nb)
    clean(nb)
    nbformat.validate(nb)
    target = NOTEBOOKS / name
    target.write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to build (a prefix such as 01 is enough)")
    parser.add_argument("--no-execute", action="store_true", help="write the cells without running them")
    args = parser.parse_args(argv)
    chosen = [n for n in NOTEBOOK_CELLS if not args.names or any(n.startswith(p) for p in args.names)]
    if not chosen:
        parser.error(f"no notebook matches {args.names}; choose from {', '.join(NOTEBOOK_CELLS)}")
    for name in chosen:
        start = time.perf_counter()
        path = build(name, run=not args.no_execute)
        print(f"{path.relative_to(ROOT)}  {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
