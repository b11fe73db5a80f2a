"""The Ideogram API's facts as data: enums, sizes, routes and prices.

Why a module of plain tables: the service's enums grow (rendering speeds, style types), and
some facts are only as good as their source (see `UNCONFIRMED`). Specs, the client, pricing
and the simulator all read them from here, so a correction is one line. Sources are in
`shared/API.md` and `shared/API_REFERENCE.md`.
"""

from __future__ import annotations

# --- V3 ---------------------------------------------------------------------------------
V3_ASPECT_RATIOS: tuple[str, ...] = (
    "1x3", "3x1", "1x2", "2x1", "9x16", "16x9", "10x16", "16x10",
    "2x3", "3x2", "3x4", "4x3", "4x5", "5x4", "1x1",
)  # fmt: skip

#: Output size per V3 aspect ratio: the exact-ratio member of the 69 resolutions
#: (16x9/9x16 from public tables; inferred, see API_REFERENCE §2.4).
V3_ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1x1": (1024, 1024), "3x1": (1536, 512), "1x3": (512, 1536), "2x1": (1408, 704),
    "1x2": (704, 1408), "16x10": (1280, 800), "10x16": (800, 1280), "3x2": (1248, 832),
    "2x3": (832, 1248), "4x3": (1152, 864), "3x4": (864, 1152), "5x4": (1120, 896),
    "4x5": (896, 1120), "16x9": (1312, 736), "9x16": (736, 1312),
}  # fmt: skip

V3_RESOLUTIONS: tuple[str, ...] = tuple(
    """512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472 640x1536 704x1152
    704x1216 704x1280 704x1344 704x1408 704x1472 736x1312 768x1088 768x1216 768x1280 768x1344
    800x1280 832x960 832x1024 832x1088 832x1152 832x1216 832x1248 864x1152 896x960 896x1024
    896x1088 896x1120 896x1152 960x832 960x896 960x1024 960x1088 1024x832 1024x896 1024x960
    1024x1024 1088x768 1088x832 1088x896 1088x960 1120x896 1152x704 1152x832 1152x864 1152x896
    1216x704 1216x768 1216x832 1248x832 1280x704 1280x768 1280x800 1312x736 1344x640 1344x704
    1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 1536x512 1536x576
    1536x640""".split()
)

#: The seed's speeds first; FLASH is Ideogram's later addition (priced like TURBO).
V3_RENDERING_SPEEDS: tuple[str, ...] = ("TURBO", "DEFAULT", "QUALITY", "FLASH")
MAGIC_PROMPT_OPTIONS: tuple[str, ...] = ("AUTO", "ON", "OFF")
#: Seed list, then Ideogram's later additions (StyleTypeV3); CUSTOM goes with custom_model_uri.
V3_STYLE_TYPES: tuple[str, ...] = ("AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION", "STYLIZED", "CUSTOM")
#: `custom_model_uri`: "a custom model URI in the format model/<model_name>/version/<version_name>"
#: (schema prose only: the schema itself has no pattern, so a mismatch is a warning).
CUSTOM_MODEL_URI_PATTERN = r"\Amodel/[^/\s]+/version/[^/\s]+\Z"
#: character_reference_images: "currently only supports 1 character reference image" (schema
#: prose; no source allows more, so more is refused; "currently": one line to change).
CHARACTER_REFERENCE_MAX_COUNT = 1
V3_STYLE_PRESETS: tuple[str, ...] = tuple(
    """80S_ILLUSTRATION 90S_NOSTALGIA ABSTRACT_ORGANIC ANALOG_NOSTALGIA ART_BRUT ART_DECO
    ART_POSTER AURA AVANT_GARDE BAUHAUS BLUEPRINT BLURRY_MOTION BRIGHT_ART C4D_CARTOON
    CHILDRENS_BOOK COLLAGE COLORING_BOOK_I COLORING_BOOK_II CUBISM DARK_AURA DOODLE
    DOUBLE_EXPOSURE DRAMATIC_CINEMA EDITORIAL EMOTIONAL_MINIMAL ETHEREAL_PARTY EXPIRED_FILM
    FLAT_ART FLAT_VECTOR FOREST_REVERIE GEO_MINIMALIST GLASS_PRISM GOLDEN_HOUR GRAFFITI_I
    GRAFFITI_II HALFTONE_PRINT HIGH_CONTRAST HIPPIE_ERA ICONIC JAPANDI_FUSION JAZZY
    LONG_EXPOSURE MAGAZINE_EDITORIAL MINIMAL_ILLUSTRATION MIXED_MEDIA MONOCHROME NIGHTLIFE
    OIL_PAINTING OLD_CARTOONS PAINT_GESTURE POP_ART RETRO_ETCHING RIVIERA_POP SPOTLIGHT_80S
    STYLIZED_RED SURREAL_COLLAGE TRAVEL_POSTER VINTAGE_GEO VINTAGE_POSTER WATERCOLOR WEIRD
    WOODBLOCK_PRINT""".split()
)
COLOR_PALETTE_PRESETS: tuple[str, ...] = (
    "EMBER", "FRESH", "JUNGLE", "MAGIC", "MELON", "MOSAIC", "PASTEL", "ULTRAMARINE",
)  # fmt: skip
STYLE_CODE_PATTERN = r"\A[0-9a-fA-F]{8}\Z"  # \Z, not $: "A1B2C3D4\n" is not a code
HEX_COLOR_PATTERN = r"\A#(?:[0-9a-fA-F]{3}){1,2}\Z"

# --- legacy (V1/V2) ---------------------------------------------------------------------
LEGACY_ASPECT_RATIOS: tuple[str, ...] = (
    "ASPECT_1_1", "ASPECT_3_1", "ASPECT_1_3", "ASPECT_3_2", "ASPECT_2_3", "ASPECT_4_3",
    "ASPECT_3_4", "ASPECT_16_9", "ASPECT_9_16", "ASPECT_16_10", "ASPECT_10_16",
)  # fmt: skip
#: The seed writes `SPECT_16_10` (a typo); accept it as input, send the real value.
LEGACY_ASPECT_ALIASES: dict[str, str] = {"SPECT_16_10": "ASPECT_16_10"}
LEGACY_ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "ASPECT_1_1": (1024, 1024), "ASPECT_3_1": (1536, 512), "ASPECT_1_3": (512, 1536),
    "ASPECT_3_2": (1248, 832), "ASPECT_2_3": (832, 1248), "ASPECT_4_3": (1152, 864),
    "ASPECT_3_4": (864, 1152), "ASPECT_16_9": (1280, 720), "ASPECT_9_16": (720, 1280),
    "ASPECT_16_10": (1280, 800), "ASPECT_10_16": (800, 1280),
}  # fmt: skip
#: Seed models first; V_3 (2025-03) and AUTO (2026-03) are Ideogram's later additions (ModelEnum).
LEGACY_MODELS: tuple[str, ...] = ("V_1", "V_1_TURBO", "V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO", "V_3", "AUTO")
LEGACY_DEFAULT_MODEL = "V_2"
LEGACY_EDIT_MODELS: tuple[str, ...] = ("V_2", "V_2_TURBO")
#: Seed list, then Ideogram's later additions to StyleType (CUSTOM 2025-05, FICTION 2025-07,
#: STYLIZED 2025-09).
LEGACY_STYLE_TYPES: tuple[str, ...] = (
    "AUTO", "GENERAL", "REALISTIC", "DESIGN", "RENDER_3D", "ANIME", "FICTION", "STYLIZED", "CUSTOM",
)  # fmt: skip
#: MagicPromptVersionEnum: optional on legacy generate/remix/upscale, "when magic prompt option
#: is set to AUTO or ON".
MAGIC_PROMPT_VERSIONS: tuple[str, ...] = tuple(["V_0"] + [f"V_0_{i}" for i in range(1, 9)])

# Model-dependent legacy fields. Each `..._WITH_...` tuple lists the models a request may
# carry the field with (the client and the simulator refuse the others: every source forbids
# them); `..._DISPUTED` lists the models among those where the sources disagree, so
# `validate()` warns instead of refusing.
#: style_type: "only applicable for models V_2 and above and should not be specified for
#: model versions V_1" (schema) = "never with V_1/V_1_TURBO" (seed).
LEGACY_MODELS_WITHOUT_STYLE: tuple[str, ...] = ("V_1", "V_1_TURBO")
#: negative_prompt: "Only available for model versions V_1, V_1_TURBO, V_2 and V_2_TURBO"
#: (schema prose, seed); but AiHubMix's own example sends it with V_3, and AUTO (newer than
#: that prose) may pick one of those models.
LEGACY_MODELS_WITH_NEGATIVE: tuple[str, ...] = ("V_1", "V_1_TURBO", "V_2", "V_2_TURBO", "V_3", "AUTO")
LEGACY_MODELS_WITH_NEGATIVE_DISPUTED: tuple[str, ...] = ("V_3", "AUTO")
#: resolution: "For model_version for 2.0 only" (schema prose), "only for V_2-class models"
#: (seed): whether 2a counts as 2.0 is read differently, and AUTO may pick a 2.0 model.
LEGACY_MODELS_WITH_RESOLUTION: tuple[str, ...] = ("V_2", "V_2_TURBO", "V_2A", "V_2A_TURBO", "AUTO")
LEGACY_MODELS_WITH_RESOLUTION_DISPUTED: tuple[str, ...] = ("V_2A", "V_2A_TURBO", "AUTO")
LEGACY_RESOLUTIONS: tuple[str, ...] = tuple(
    "RESOLUTION_" + r.replace("x", "_")
    for r in sorted(
        (set(V3_RESOLUTIONS) - {"800x1280"})
        | {"640x1024", "720x1280", "768x1024", "768x1152", "768x1232", "1024x640", "1024x768",
           "1152x768", "1232x768", "1280x720"},
        key=lambda s: tuple(int(v) for v in s.split("x")),
    )
)  # fmt: skip

SEED_MAX = 2_147_483_647
NUM_IMAGES_MAX = 8
WEIGHT_MIN, WEIGHT_MAX = 1, 100  # image_weight, resemblance, detail

# --- defaults and extra rules the specs need (read by specs, pricing and previews) ---------
V3_DEFAULT_RENDERING_SPEED = "DEFAULT"
V3_DEFAULT_ASPECT_RATIO = "1x1"
LEGACY_DEFAULT_ASPECT_RATIO = "ASPECT_1_1"
#: The spec history's `BALANCED` was the first name of today's `DEFAULT` (API_REFERENCE §2.1).
V3_RENDERING_SPEED_ALIASES: dict[str, str] = {"BALANCED": "DEFAULT"}
#: color_palette: "Not supported by V_1, V_1_TURBO, V_2A and V_2A_TURBO models" (schema prose;
#: API_REFERENCE §4.1, §8.10): every other model may carry it.
LEGACY_MODELS_WITH_COLOR_PALETTE: tuple[str, ...] = ("V_2", "V_2_TURBO", "V_3", "AUTO")
COLOR_PALETTE_MAX_MEMBERS = 8
COLOR_WEIGHT_MIN, COLOR_WEIGHT_MAX = 0.05, 1.0
#: describe's optional model version (DescribeModelVersion, default V_3 upstream).
DESCRIBE_MODEL_VERSIONS: tuple[str, ...] = ("V_2", "V_3", "CUSTOM")

# --- input sizes --------------------------------------------------------------------------
#: Per-file limits larger than `_config.MAX_IMAGE_BYTES` (10 MB: the 2026-06 schema's prose for
#: every image field, and the seed), by (endpoint, field): Ideogram's later v1 pages say
#: "max size 25MB" for remix-v3's `image` and for inpaint-v3 (the successor of V3 edit, same
#: `image`/`mask` fields). Between the two the sources disagree: a warning; above, a refusal.
LARGER_IMAGE_LIMITS: dict[tuple[str, str], int] = {
    ("remix", "image"): 25 * 1024 * 1024,
    ("edit", "image"): 25 * 1024 * 1024,
    ("edit", "mask"): 25 * 1024 * 1024,
}

# --- routes -----------------------------------------------------------------------------
#: endpoint id → route after the provider's base URL.
ROUTES: dict[str, str] = {
    "generate": "/v1/ideogram-v3/generate",
    "remix": "/v1/ideogram-v3/remix",
    "edit": "/v1/ideogram-v3/edit",
    "reframe": "/v1/ideogram-v3/reframe",
    "replace-background": "/v1/ideogram-v3/replace-background",
    "legacy-generate": "/generate",
    "legacy-remix": "/remix",
    "legacy-edit": "/edit",
    "upscale": "/upscale",
    "describe": "/describe",
}

# --- prices (US $ per output image; upscale per call) [seed; matches Ideogram's table] ----
V3_PRICE_PER_IMAGE: dict[str, float] = {"FLASH": 0.03, "TURBO": 0.03, "DEFAULT": 0.06, "QUALITY": 0.09}
#: "3.0 + character reference" (Ideogram's pricing page, API_REFERENCE §7): generate, remix and
#: edit with `character_reference_images` ("subject to the character reference pricing").
#: FLASH is not in that table: priced like TURBO and flagged in `UNCONFIRMED`.
V3_CHARACTER_PRICE_PER_IMAGE: dict[str, float] = {"FLASH": 0.10, "TURBO": 0.10, "DEFAULT": 0.15, "QUALITY": 0.20}
LEGACY_PRICE_PER_IMAGE: dict[str, float] = {
    "V_2A": 0.04, "V_2A_TURBO": 0.025, "V_2": 0.08, "V_2_TURBO": 0.05, "V_1": 0.06, "V_1_TURBO": 0.02,
    "V_3": 0.06,  # priced like V3 DEFAULT: not in the seed's table
    "AUTO": 0.08,  # the service picks the model: the dearest legacy price, so budgets hold
}  # fmt: skip
LEGACY_EDIT_PRICE_PER_IMAGE: dict[str, float] = {"V_2": 0.08, "V_2_TURBO": 0.05}
UPSCALE_PRICE_PER_CALL = 0.06
#: Not priced in the seed nor in public tables: estimated as 0 and flagged as unknown.
DESCRIBE_PRICE_PER_CALL = 0.0

#: Facts that could not be checked against a primary source (API.md "[unconfirmed]").
UNCONFIRMED: dict[str, str] = {
    "V3_ASPECT_SIZES['16x9'/'9x16']": "no exact-ratio member; 1312x736 from third-party tables",
    "LEGACY_ASPECT_SIZES": "no published mapping; simulator sizes only",
    "DESCRIBE_PRICE_PER_CALL": "no public price found; estimated as 0",
    "LEGACY_PRICE_PER_IMAGE['V_3']": "not in the seed; priced like V3 DEFAULT",
    "mask rules (>=10% edit, not all white)": "seed/AiHubMix only, not in Ideogram's schema",
    "LEGACY_PRICE_PER_IMAGE['AUTO']": "not in any table; the dearest legacy price (V_2)",
    "V3_CHARACTER_PRICE_PER_IMAGE['FLASH']": "the character table has no FLASH row; priced like TURBO",
    "custom_model_uri price": "not published; estimated at the rendering speed's price",
    "LARGER_IMAGE_LIMITS": "later v1 doc pages only; the 2026-06 schema says 10MB",
}


def parse_size(value: str) -> tuple[int, int]:
    """'1024x768' or 'RESOLUTION_1024_768' → (1024, 768)."""
    text = value.removeprefix("RESOLUTION_").replace("_", "x")
    w, h = text.lower().split("x")
    return int(w), int(h)
