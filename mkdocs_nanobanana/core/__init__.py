"""The core's values: what a directive says (directives), what the models are and cost
(catalog), the plugin's options as one table (options; what each takes, option_kinds;
the reference and JSON schema made from it, option_docs) and settings (settings), what
is paid for (request), a page as a host hands it (pages), a card's words and look
(card_values), the theme's colours and fonts (theme), untrusted image bytes
(image_bytes), a page author's YAML read so it cannot hang or crash a build (yaml_text),
and how messages reach the user (reporting). One exception tree (errors).

May import: nothing else of the package. No host, no network, no threads.
"""
