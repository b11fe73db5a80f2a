"""Every default and environment-variable name of ideogram_nb, in one place.

Why one module: a default that lives in two places drifts. Modules import names from here;
tests monkeypatch the environment, never these constants.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# --- environment variables ------------------------------------------------------------
ENV_PROVIDER = "IDEOGRAM_NB_PROVIDER"
ENV_HOME = "IDEOGRAM_NB_HOME"
ENV_IDEOGRAM_KEY = "IDEOGRAM_API_KEY"
ENV_AIHUBMIX_KEY = "AIHUBMIX_API_KEY"
ENV_BASE_URL = "IDEOGRAM_NB_BASE_URL"

# --- providers --------------------------------------------------------------------------
PROVIDER_OFFLINE = "offline"
PROVIDER_AIHUBMIX = "aihubmix"
PROVIDER_IDEOGRAM = "ideogram"
PROVIDER_REPLAY = "replay"
PROVIDER_RECORD_OR_REPLAY = "record_or_replay"
PROVIDERS = (
    PROVIDER_OFFLINE,
    PROVIDER_AIHUBMIX,
    PROVIDER_IDEOGRAM,
    PROVIDER_REPLAY,
    PROVIDER_RECORD_OR_REPLAY,
)


@dataclass(frozen=True)
class ProviderInfo:
    """How to reach one provider: where, and which key authenticates there."""

    name: str
    base_url: str
    key_env: str | None
    auth_header: str = "Api-Key"


PROVIDER_INFO: dict[str, ProviderInfo] = {
    PROVIDER_AIHUBMIX: ProviderInfo(PROVIDER_AIHUBMIX, "https://aihubmix.com/ideogram", ENV_AIHUBMIX_KEY),
    PROVIDER_IDEOGRAM: ProviderInfo(PROVIDER_IDEOGRAM, "https://api.ideogram.ai", ENV_IDEOGRAM_KEY),
    # The simulator is reached through its transport; the host is never resolved.
    PROVIDER_OFFLINE: ProviderInfo(PROVIDER_OFFLINE, "http://simulator.invalid", None),
}

#: The offline provider must still send a key: the simulator, like the service, refuses
#: requests without one. This placeholder is not a secret.
OFFLINE_PLACEHOLDER_KEY = "offline-simulator"

OFFLINE_NOTICE = (
    "ideogram_nb: no API key found, using the offline simulator (images are synthetic). "
    f"Set {ENV_IDEOGRAM_KEY} or {ENV_AIHUBMIX_KEY} to use the real service."
)

# --- client -----------------------------------------------------------------------------
#: The service blocks until images exist; QUALITY with 8 images can take a minute or more.
DEFAULT_TIMEOUT_S = 180.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 3
#: Ideogram counts in-flight *images* per account, about 10 by default.
DEFAULT_CONCURRENCY = 10
RETRY_BASE_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 30.0
#: Never wait longer than this for a server-given Retry-After.
RETRY_AFTER_CAP_S = 120.0
#: Whether a POST whose outcome is unknown (sent, then the answer was lost) is sent again
#: automatically. False protects money: the service may already have made and billed the
#: images, and Ideogram has no idempotency keys. See docs/reliability.md.
DEFAULT_RESEND_UNKNOWN = False
#: v2 jobs (`Client.start`/`resume`): the first wait between polls, how it grows, and its cap.
#: Ideogram rate-limits polling per organisation (1,000 requests / 10 s); a 429's Retry-After wins.
JOB_POLL_FIRST_S = 1.0
JOB_POLL_FACTOR = 1.5
JOB_POLL_MAX_S = 15.0
#: Same-origin 307/308 redirects an API call follows (with the key) before giving up.
MAX_API_REDIRECTS = 3
#: Refuse to download more than this per image (a misbehaving host cannot fill the disk).
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
USER_AGENT = "ideogram_nb"

# --- inputs -----------------------------------------------------------------------------
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_STYLE_REFERENCE_TOTAL_BYTES = 10 * 1024 * 1024
MIN_MASK_COVERAGE = 0.10
#: Grey mask pixels (any JPEG mask has some) are sent as black below this value, white at or
#: above it: mid-grey, so a pixel goes to the colour it is closer to.
MASK_THRESHOLD = 128

# --- history ----------------------------------------------------------------------------
DEFAULT_HOME_DIRNAME = "ideogram_runs"
HISTORY_DB_NAME = "history.sqlite"
IMAGES_DIRNAME = "images"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: What an export given a folder writes inside it: `runs.ipynb`, `runs.jsonl`.
EXPORT_DEFAULT_STEM = "runs"
#: Where `history repair` moves stored files whose bytes no longer match their name.
DAMAGED_IMAGES_DIRNAME = "damaged"

# --- thumbnails (grids, exported notebooks) ---------------------------------------------
THUMBNAIL_PX = 256
THUMBNAIL_JPEG_QUALITY = 80
EXPORT_THUMBNAIL_PX = 192
EXPORT_THUMBNAIL_JPEG_QUALITY = 70
#: Inline thumbnails in a comparison's HTML view, and their JPEG quality.
HTML_THUMBNAIL_PX = 160
HTML_THUMBNAIL_JPEG_QUALITY = 75
#: Previews of image inputs in forms (uploads, results picked as inputs).
INPUT_PREVIEW_PX = 160
#: The mask painter inside a form: its longest side in screen pixels (fits the settings column,
#: so Run stays within reach under it).
FORM_PAINTER_PX = 560
#: A form asks the service's price of a v2 operation (a free dry run) this long after the last edit.
QUOTE_DEBOUNCE_S = 0.6
#: Cells of a comparison grid widget.
COMPARE_CELL_PX = 192

# --- the gallery (large view, downloads) --------------------------------------------------
#: A downloaded image is named from this many of its prompt's first words, plus its seed.
DOWNLOAD_NAME_WORDS = 5
#: The large view's "Save to server" copies the image into this folder (under the kernel's
#: working directory) when no other folder is given.
SERVER_SAVE_FOLDER = "saved_images"
#: A history browser with a client re-reads the history this long after the last recorded
#: call, so a compare grid's burst of cells costs one refresh, not one per cell.
HISTORY_REFRESH_DEBOUNCE_S = 0.3
#: Made in the background as soon as an output is stored: (px, JPEG quality) per size.
PREMADE_THUMBNAILS = ((THUMBNAIL_PX, THUMBNAIL_JPEG_QUALITY), (EXPORT_THUMBNAIL_PX, EXPORT_THUMBNAIL_JPEG_QUALITY))
#: Stored outputs waiting for those (their paths); past this many, later ones are made on first use.
THUMBNAIL_BACKLOG = 4096
#: Thumbnails made ahead and not yet asked for, held in memory (~20 kB each).
THUMBNAIL_READY_MAX = 512
#: ... and made only once no output has been stored for this long (the caller is waiting).
#: A real call takes seconds, so this still leaves nearly all of it; a shorter pause (it was
#: 0.05 s) also fired between back-to-back calls to a fast service (the simulator, replays)
#: and put a 1024² decode beside the next call: +5 ms in half the calls of bench_client.
THUMBNAIL_QUIET_S = 0.25

# --- deciding: scores and the leaderboard (docs/comparisons.md) ---------------------------
#: The metrics `score_image` returns, in order (`near_duplicate` needs a call's images), and
#: those where a smaller number is better (the others: larger is better).
SCORE_METRICS = ("text_accuracy", "edit_locality", "palette_delta_e", "sharpness", "near_duplicate")
SCORE_LOWER_IS_BETTER = frozenset({"palette_delta_e", "near_duplicate"})
#: The OCR engine `score_image` runs for `text_accuracy` (Debian: `apt-get install tesseract-ocr`).
TESSERACT_BINARY = "tesseract"
#: One OCR call may take this long before its metric is given up (None, with a warning).
OCR_TIMEOUT_S = 60.0
#: Images are read at most this large (longest side) for OCR: generated lettering is big.
OCR_MAX_PX = 1024
#: `edit_locality`: a pixel outside the mask still counts as unchanged within this much (0-255)
#: on every channel, so re-encoding noise is not an edit.
EDIT_LOCALITY_TOLERANCE = 12
#: `sharpness` = v / (v + this), v the variance of the Laplacian (0-255 grey scale): 0.5 at v.
SHARPNESS_HALF_VARIANCE = 100.0
#: dHash bits (of 64) two images may differ by and still count as near-duplicates.
NEAR_DUPLICATE_MAX_BITS = 10
#: The leaderboard's Gaussian prior on strengths (L2 penalty per value): one vote cannot make a
#: strength infinite; it is what keeps a value that won every vote finite.
LEADERBOARD_PRIOR = 0.05
#: Confidence of the leaderboard's intervals.
LEADERBOARD_LEVEL = 0.95

# --- simulator --------------------------------------------------------------------------
SIMULATOR_DEFAULT_PORT = 8765
SIMULATOR_URL_TTL_S = 24 * 3600
SIMULATOR_DEFAULT_INFLIGHT_LIMIT = None  # unlimited unless a test asks for it
SIMULATOR_HOST = "127.0.0.1"
#: Images the simulator keeps for download: a bound on count and on bytes, oldest dropped first.
SIMULATOR_MAX_STORED_IMAGES = 2000
SIMULATOR_MAX_STORED_BYTES = 512 * 1024 * 1024
#: How long the loopback server sits on a request before dropping it (the `timeout` fault).
SIMULATOR_TIMEOUT_FAULT_S = 30.0


def home_dir() -> Path:
    """The history folder: `IDEOGRAM_NB_HOME`, else `./ideogram_runs` beside the notebook."""
    return Path(os.environ.get(ENV_HOME) or DEFAULT_HOME_DIRNAME)
