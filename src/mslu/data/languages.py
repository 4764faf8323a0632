"""Sign languages and spoken/written languages known to the corpus, with text-encoder language codes.

Adding a language is one table entry: a sign language is its ISO 639-3 code in :data:`SIGN_LANGUAGES`, a
text language its ISO 639-1 code in :data:`TEXT_LANGUAGES` with its mBART-50 language token. An unknown
code is an error naming the code and this module (:func:`check_sign_language`, :func:`check_text_language`).
"""

from __future__ import annotations

# Text languages: ISO 639-1 code -> mBART language token. The first 25 are mBART-cc25's (the paper's text
# encoder, facebook/mbart-large-cc25), the rest mBART-50's; a text encoder without a language's token
# tokenises its ISO code instead (mslu.models.text_encoder).
TEXT_LANGUAGES: dict[str, str] = {
    "en": "en_XX",
    "de": "de_DE",
    "zh": "zh_CN",
    "fr": "fr_XX",
    "es": "es_XX",
    "it": "it_IT",
    "nl": "nl_XX",
    "ja": "ja_XX",
    "ko": "ko_KR",
    "ru": "ru_RU",
    "tr": "tr_TR",
    "ar": "ar_AR",
    "cs": "cs_CZ",
    "et": "et_EE",
    "fi": "fi_FI",
    "gu": "gu_IN",
    "hi": "hi_IN",
    "kk": "kk_KZ",
    "lt": "lt_LT",
    "lv": "lv_LV",
    "my": "my_MM",
    "ne": "ne_NP",
    "ro": "ro_RO",
    "si": "si_LK",
    "vi": "vi_VN",
    # mBART-50 only
    "af": "af_ZA",
    "az": "az_AZ",
    "bn": "bn_IN",
    "fa": "fa_IR",
    "he": "he_IL",
    "hr": "hr_HR",
    "id": "id_ID",
    "ka": "ka_GE",
    "km": "km_KH",
    "mk": "mk_MK",
    "ml": "ml_IN",
    "mn": "mn_MN",
    "mr": "mr_IN",
    "pl": "pl_PL",
    "ps": "ps_AF",
    "pt": "pt_XX",
    "sv": "sv_SE",
    "sw": "sw_KE",
    "ta": "ta_IN",
    "te": "te_IN",
    "th": "th_TH",
    "tl": "tl_XX",
    "uk": "uk_UA",
    "ur": "ur_PK",
    "xh": "xh_ZA",
    "gl": "gl_ES",
    "sl": "sl_SI",
}

# Sign languages: ISO 639-3 code -> (name, usual text language of its corpora; None when that language has
# no mBART-50 token).
SIGN_LANGUAGES: dict[str, tuple[str, str | None]] = {
    "ase": ("American Sign Language (ASL)", "en"),
    "bfi": ("British Sign Language (BSL)", "en"),
    "csl": ("Chinese Sign Language (CSL)", "zh"),
    "gsg": ("German Sign Language (DGS / GSL)", "de"),
    "tsm": ("Turkish Sign Language (TID)", "tr"),
    "aed": ("Argentine Sign Language (LSA)", "es"),
    "aen": ("Armenian Sign Language", None),
    "asf": ("Australian Sign Language (Auslan)", "en"),
    "bqn": ("Bulgarian Sign Language", None),
    "bzs": ("Brazilian Sign Language (Libras)", "pt"),
    "csf": ("Cuba Sign Language", "es"),
    "csg": ("Chilean Sign Language", "es"),
    "csn": ("Colombian Sign Language", "es"),
    "csq": ("Croatia Sign Language", "hr"),
    "cse": ("Czech Sign Language", "cs"),
    "dse": ("Dutch Sign Language (NGT)", "nl"),
    "dsl": ("Danish Sign Language", None),
    "ecs": ("Ecuadorian Sign Language", "es"),
    "esl": ("Egypt Sign Language", "ar"),
    "eso": ("Estonian Sign Language", "et"),
    "fcs": ("Quebec Sign Language (LSQ)", "fr"),
    "fse": ("Finnish Sign Language", "fi"),
    "fsl": ("French Sign Language (LSF)", "fr"),
    "gse": ("Ghanaian Sign Language", "en"),
    "gss": ("Greek Sign Language", None),
    "hab": ("Hanoi Sign Language", "vi"),
    "hks": ("Hong Kong Sign Language", "zh"),
    "hos": ("Ho Chi Minh City Sign Language", "vi"),
    "hsh": ("Hungarian Sign Language", None),
    "icl": ("Icelandic Sign Language", None),
    "ils": ("International Sign", "en"),
    "inl": ("Indonesian Sign Language", "id"),
    "ins": ("Indian Sign Language (ISL)", "hi"),
    "ise": ("Italian Sign Language (LIS)", "it"),
    "isg": ("Irish Sign Language", "en"),
    "isr": ("Israeli Sign Language", "he"),
    "jsl": ("Japanese Sign Language", "ja"),
    "kvk": ("Korean Sign Language", "ko"),
    "lls": ("Lithuanian Sign Language", "lt"),
    "lsl": ("Latvian Sign Language", "lv"),
    "mdl": ("Maltese Sign Language", None),
    "mfs": ("Mexican Sign Language (LSM)", "es"),
    "nsl": ("Norwegian Sign Language", None),
    "nsp": ("Nepalese Sign Language", "ne"),
    "nzs": ("New Zealand Sign Language", "en"),
    "pks": ("Pakistan Sign Language", "ur"),
    "prl": ("Peruvian Sign Language", "es"),
    "psc": ("Iranian (Persian) Sign Language", "fa"),
    "psp": ("Philippine Sign Language", "tl"),
    "psr": ("Portuguese Sign Language (LGP)", "pt"),
    "pso": ("Polish Sign Language", "pl"),
    "rms": ("Romanian Sign Language", "ro"),
    "rsl": ("Russian Sign Language", "ru"),
    "sdl": ("Saudi Arabian Sign Language", "ar"),
    "sfb": ("French Belgian Sign Language", "fr"),
    "sfs": ("South African Sign Language", "en"),
    "sgg": ("Swiss-German Sign Language (DSGS)", "de"),
    "sqk": ("Albanian Sign Language", None),
    "sqs": ("Sri Lankan Sign Language", "si"),
    "ssp": ("Spanish Sign Language (LSE)", "es"),
    "svk": ("Slovakian Sign Language", None),
    "swl": ("Swedish Sign Language", "sv"),
    "tsq": ("Thai Sign Language", "th"),
    "tss": ("Taiwan Sign Language", "zh"),
    "ukl": ("Ukrainian Sign Language", "uk"),
    "vgt": ("Flemish Sign Language (VGT)", "nl"),
    "vsl": ("Venezuelan Sign Language", "es"),
    "xki": ("Kenyan Sign Language", "sw"),
    "xml": ("Malaysian Sign Language", None),
    # The built-in synthetic sign languages (mslu synth).
    "syn-en": ("Synthetic sign language A (texts in English)", "en"),
    "syn-de": ("Synthetic sign language B (texts in German)", "de"),
    "syn-zh": ("Synthetic sign language C (texts in Chinese)", "zh"),
}

# Short names used by the paper's tables (and for the datasets of docs/realdata.md).
SIGN_LANGUAGE_SHORT: dict[str, str] = {"ase": "ASL", "bfi": "BSL", "csl": "CSL", "gsg": "GSL", "tsm": "TID",
                                       "bzs": "Libras"}

for _code, (_name, _text) in SIGN_LANGUAGES.items():
    assert _text is None or _text in TEXT_LANGUAGES, _code


def check_sign_language(code: str, where: str = "") -> str:
    """``code`` when it is a known sign language (ISO 639-3, case-insensitive); ValueError otherwise."""
    key = str(code).strip().lower()
    if key in SIGN_LANGUAGES:
        return key
    prefix = f"{where}: " if where else ""
    raise ValueError(f"{prefix}unknown sign language {code!r}: not an ISO 639-3 sign language code listed in "
                     f"mslu.data.languages.SIGN_LANGUAGES (e.g. ase, bfi, bzs, gsg; add one entry there for "
                     "a new language)")


def check_text_language(code: str, where: str = "") -> str:
    """The ISO 639-1 code of a known text language, given as ``pt`` or its mBART token ``pt_XX``;
    ValueError otherwise."""
    key = str(code).strip()
    if key.lower() in TEXT_LANGUAGES:
        return key.lower()
    for iso, token in TEXT_LANGUAGES.items():
        if token.lower() == key.lower():
            return iso
    prefix = f"{where}: " if where else ""
    raise ValueError(f"{prefix}unknown text language {code!r}: not an ISO 639-1 code of an mBART-50 language "
                     "listed in mslu.data.languages.TEXT_LANGUAGES (e.g. en, de, pt, hi)")
