"""Ideogram's v2 API (`/v2/...`) as data: routes, lowercase enums, sizes, limits and prices.

Why beside `_api` and not in it: the v2 operations are a second API with its own spelling
(lowercase enums, `quality` instead of `rendering_speed`, `size` as text), its own answer
shapes (`PriceQuote`, `generation_id`) and its own providers (Ideogram direct and the
simulator only: AiHubMix documents no v2 route). Specs, the client, pricing and the simulator
read these tables; the source of every fact is `shared/openapi/ideogram-v2-subset-2026-10.json`
(the schema, or a `description` quoted beside the fact; prose rules are warned about where a
source disagrees).
"""

from __future__ import annotations

#: endpoint id → route after the provider's base URL.
V2_ROUTES: dict[str, str] = {
    "v2-generate-4-5": "/v2/image/generate/ideogram-4-5",
    "v2-precise-edit-4-5": "/v2/image/precise-edit/ideogram-4-5",
    "v2-inpaint-3": "/v2/image/inpaint/ideogram-3",
    "v2-remix-4": "/v2/image/remix/ideogram-4",
    "v2-describe-4": "/v2/image/describe/ideogram-4",
    "v2-replace-background-3": "/v2/image/replace-background/ideogram-3",
}
#: The polling route of asynchronous work (`{generation_id}` is URL-safe base64).
V2_GENERATIONS_ROUTE = "/v2/generations/{generation_id}"
#: Operations that take `dry_run=true` (every generation operation; describe takes none).
V2_DRY_RUN_ENDPOINTS: frozenset[str] = frozenset(V2_ROUTES) - {"v2-describe-4"}
#: Operations that are always asynchronous: replace-background "Returns a `generation_id`"
#: and its request has no `async` field. `Client.run` sends them as jobs (start → poll → Result).
V2_ALWAYS_ASYNC_ENDPOINTS: frozenset[str] = frozenset({"v2-replace-background-3"})
#: Operations that take the `async` field (sent only by `Client.start`).
V2_ASYNC_ENDPOINTS: frozenset[str] = V2_DRY_RUN_ENDPOINTS - V2_ALWAYS_ASYNC_ENDPOINTS
#: Every operation `Client.start` can run as a job.
V2_JOB_ENDPOINTS: frozenset[str] = V2_ASYNC_ENDPOINTS | V2_ALWAYS_ASYNC_ENDPOINTS

#: `quality` of 4.5 ("very_low" is the fastest and cheapest, and on generate needs source images).
QUALITIES: tuple[str, ...] = ("very_low", "low", "medium", "high")
#: MagicPromptMode, lowercase on v2.
V2_MAGIC_PROMPT: tuple[str, ...] = ("auto", "on", "off")
#: v2 inpaint / remix rendering speeds (lowercase; no FLASH on v2).
V2_RENDERING_SPEEDS: tuple[str, ...] = ("turbo", "default", "quality")
#: IdeogramV3StyleType, lowercase on v2.
V2_STYLE_TYPES: tuple[str, ...] = ("auto", "general", "realistic", "design", "custom", "fiction", "stylized")
#: ResolutionV4: "the 1K and 2K resolutions supported" (4.0); 4.5 generate's `size` prose names
#: the same presets ("for example 1024x1024, 2048x2048 or 1440x2880") for requests without images.
SIZE_PRESETS: tuple[str, ...] = tuple(
    """2048x2048 1440x2880 2880x1440 1664x2496 2496x1664 1792x2240 2240x1792 1440x2560 2560x1440
    1600x2560 2560x1600 1728x2304 2304x1728 1296x3168 3168x1296 1152x2944 2944x1152 1248x3328
    3328x1248 1280x3072 3072x1280 1024x3072 3072x1024 1024x1024 896x1120 1120x896 864x1152
    1152x864 832x1248 1248x832 800x1280 1280x800 720x1280 1280x720 720x1440 1440x720 512x1536
    1536x512""".split()
)
SIZE_WORDS: tuple[str, ...] = ("auto", "source")
#: `size` prose: "both sides a multiple of 32 and at least 256px, a total of at most
#: 2048x2048 pixels, and an aspect ratio of at most 6:1".
SIZE_MULTIPLE, SIZE_MIN_SIDE, SIZE_MAX_PIXELS, MAX_ASPECT = 32, 256, 2048 * 2048, 6.0
#: "Pricing is tiered by the resolved output pixels: up to 1024x1024 bills as 1K, above that
#: as 2K. An "auto" size bills as 2K."
TIER_1K_MAX_PIXELS = 1024 * 1024
#: context_window prose: "at least 256px on each side, an aspect ratio between 1:6 and 6:1,
#: and cover no more than 4194304 pixels".
CONTEXT_MIN_SIDE, CONTEXT_MAX_PIXELS = 256, 4_194_304
PROMPT_MAX_CHARS = 10_000

#: Per-file byte limits, by (endpoint, field), from the fields' descriptions.
V2_IMAGE_LIMITS: dict[tuple[str, str], int] = {
    ("v2-generate-4-5", "images"): 25 * 1024 * 1024,
    ("v2-generate-4-5", "mask"): 25 * 1024 * 1024,
    ("v2-precise-edit-4-5", "image"): 50 * 1024 * 1024,
    ("v2-precise-edit-4-5", "mask"): 50 * 1024 * 1024,
    ("v2-precise-edit-4-5", "reference_images"): 50 * 1024 * 1024,
    ("v2-inpaint-3", "image"): 25 * 1024 * 1024,
    ("v2-inpaint-3", "mask"): 25 * 1024 * 1024,
    ("v2-inpaint-3", "style_reference_images"): 25 * 1024 * 1024,
    ("v2-remix-4", "image"): 25 * 1024 * 1024,
    ("v2-describe-4", "image"): 25 * 1024 * 1024,
    ("v2-replace-background-3", "image"): 50 * 1024 * 1024,
}
#: Count limits: generate's `images` max 5 ("A masked request can include at most three other
#: source images"), precise edit's `reference_images` max 4 (3 with a mask), inpaint's style
#: references max 10.
GENERATE_MAX_IMAGES, GENERATE_MAX_IMAGES_WITH_MASK = 5, 4
PRECISE_MAX_REFERENCES, PRECISE_MAX_REFERENCES_WITH_MASK = 4, 3
INPAINT_MAX_STYLE_REFERENCES = 10
#: replace-background's `image`: "The longer side must be at most 3 times the shorter side;
#: wider aspect ratios are rejected with a 400." Its `prompt`: maxLength 4000 (not 10000).
REPLACE_BACKGROUND_MAX_ASPECT = 3.0
REPLACE_BACKGROUND_PROMPT_MAX_CHARS = 4_000

# --- prices (US $ per output image) -----------------------------------------------------------
#: No published 4.5 / 4.0 price was found (API_REFERENCE §7: "Newer 2026 models are out of
#: scope"): these are placeholders for offline estimates and budgets, flagged in `V2_UNCONFIRMED`.
#: `client.quote(spec)` asks the service (`dry_run=true`) for the exact figure.
GENERATE45_PRICE: dict[tuple[str, str], float] = {
    ("very_low", "1K"): 0.02, ("very_low", "2K"): 0.03, ("low", "1K"): 0.03, ("low", "2K"): 0.05,
    ("medium", "1K"): 0.06, ("medium", "2K"): 0.08, ("high", "1K"): 0.09, ("high", "2K"): 0.12,
}  # fmt: skip
#: v2 inpaint is V3 edit's successor: the 3.0 prices per rendering speed (API_REFERENCE §7).
INPAINT3_PRICE: dict[str, float] = {"turbo": 0.03, "default": 0.06, "quality": 0.09}
REMIX4_PRICE: dict[str, float] = {"turbo": 0.04, "default": 0.08, "quality": 0.12}
#: v2 replace-background runs 3.0: 3.0's published replace-background prices per output image
#: (API_REFERENCE §7, equal to the V3 route's), assumed unchanged on the v2 route.
REPLACE_BACKGROUND3_PRICE: dict[str, float] = {"turbo": 0.03, "default": 0.06, "quality": 0.09}
V2_UNCONFIRMED: dict[str, str] = {
    "GENERATE45_PRICE": "no published price; a placeholder (quote with dry_run for the real one)",
    "REMIX4_PRICE": "no published price; a placeholder (quote with dry_run for the real one)",
    "precise edit tiers": "1K/2K tiering is stated for 4.5 generate; assumed for precise edit",
}
