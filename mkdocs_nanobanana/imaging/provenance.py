"""What a published image says about how it was made: an XMP packet with IPTC's Digital
Source Type, a credit line and, if asked, the prompt.

IPTC asks software that makes images with trained models to write
``Iptc4xmpExt:DigitalSourceType``; Google's products read it (Search's "About this
image", Merchant Center) and ask publishers to keep it. Every resized copy and card is
re-encoded by Pillow, which keeps no metadata, so the packet is written at encode time.
Pure values and text: no Pillow here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.directives import is_name_ref
from ..core.settings import ProvenanceSettings

__all__: list[str] = []

_CODES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: Made by a trained model from a prompt (and, maybe, other generated images).
TRAINED = _CODES + "trainedAlgorithmicMedia"
#: A generated image mixed with something else: a user's photo given as a ref, a card's drawn title.
COMPOSITE = _CODES + "compositeWithTrainedAlgorithmicMedia"
#: Drawn by an algorithm with no trained model: the plugin's own placeholders.
ALGORITHMIC = _CODES + "algorithmicMedia"

#: The credit a placeholder carries instead of the site's (no model made it).
PLACEHOLDER_CREDIT = "Placeholder drawn by mkdocs-nanobanana"


def escape(text: str) -> str:
    """XML character data, as ``xml.sax.saxutils.escape`` writes it: not imported from
    there, since that module pulls in urllib.request, http.client and ssl on every
    build, for three replacements."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An XML attribute value with its quotes, byte for byte as ``xml.sax.saxutils.quoteattr``
    writes it (the packet's bytes are in every copy: they must not move)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'


@dataclass(frozen=True)
class Provenance:
    """One image's provenance, as its files state it."""

    source_type: str
    credit: str = ""
    description: str = ""  # the prompt, when the site includes it

    @property
    def ai_generated(self) -> bool:
        return self.source_type in (TRAINED, COMPOSITE)

    def on_card(self, overlay: bool) -> Provenance:
        """The card drawn from this image: a title drawn over a generated image makes a composite."""
        if overlay and self.source_type == TRAINED:
            return Provenance(COMPOSITE, self.credit, self.description)
        return self

    def xmp(self) -> bytes:
        """A complete XMP packet (what Pillow's ``xmp=`` and PNG's iTXt chunk take)."""
        attrs = [f"Iptc4xmpExt:DigitalSourceType={quoteattr(self.source_type)}",
                 "xmp:CreatorTool=\"mkdocs-nanobanana\""]
        if self.credit:
            attrs.append(f"photoshop:Credit={quoteattr(self.credit)}")
        body = ""
        if self.description:
            body = ("\n   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">"
                    f"{escape(self.description)}</rdf:li></rdf:Alt></dc:description>\n  ")
        joined = "\n    ".join(attrs)
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            f'    {joined}>{body}</rdf:Description>\n'
            ' </rdf:RDF>\n'
            '</x:xmpmeta>\n'
            '<?xpacket end="r"?>'
        ).encode()


def of_image(settings: ProvenanceSettings, prompt: str, refs: tuple[str, ...], placeholder: bool) -> Provenance | None:
    """The provenance of a directive's image; None when the site writes none. A ref that
    is a file (not a ``#name`` of another generated image) is a picture the user
    supplied, so the result mixes it with generated pixels: a composite."""
    if not settings.enabled:
        return None
    if placeholder:
        return Provenance(ALGORITHMIC, PLACEHOLDER_CREDIT)
    composite = any(not is_name_ref(ref) for ref in refs)
    return Provenance(COMPOSITE if composite else TRAINED, settings.credit,
                      prompt if settings.include_prompt else "")
