"""One base for the package's own errors, so that a host or a script can catch them all.
Each is defined beside the code that raises it; every message says what to do, names
the option or ``page.md:line`` it is about, and never contains the API key.

    NanobananaError
    ├── SettingsError (ValueError)       core/settings.py: an option or the environment cannot work
    │   ├── ModeError                    the mode cannot run as asked (live without a key)
    │   └── OptionError                  core/option_kinds.py: an option's value is not one the options table takes
    ├── CatalogError (ValueError)        core/catalog.py: `models:` in mkdocs.yml cannot work
    ├── ChoiceError (ValueError)         core/catalog.py: no model serves that variant and ratio
    ├── DirectiveError                   core/directives.py: a directive is wrong, at page.md:line
    ├── Refused (yaml.YAMLError)         core/yaml_text.py: YAML that parses but may hang a build (aliases, depth)
    ├── BadImage (ValueError)            core/image_bytes.py: bytes that are not an image we can use
    ├── BadSidecar (ValueError)          store/cache.py: a cache entry's record cannot be read
    ├── RemoteError                      store/remote.py: the remote tier cannot be reached or read
    ├── BadRemoteEntry                   store/remote.py: a remote entry is damaged
    ├── SocialError (ValueError)         cards/social.py: a page's card settings cannot work
    ├── LogoError (ValueError)           cards/drawing.py: a card's logo cannot be drawn
    ├── PlaceholdersRefused              build/session.py: `placeholders: fail`, and the site has one
    ├── ProviderUnavailable (ValueError)  providers/__init__.py: the provider cannot be used
    ├── AddressRefused (ValueError)      providers/addresses.py: a download's host resolves somewhere it may not go
    └── ProviderError                    providers/base.py: an API call failed
        ├── AuthError                    the key is refused
        ├── CreditsError                 out of credits
        ├── AccountError                 the account or the model serves no call (billing, region, no such model)
        ├── ContentPolicyError           the prompt or the image was refused
        ├── Stopped                      the user stopped the run before it was sent
        ├── RateLimited                  429: slow down
        ├── TransientError               worth another try
        │   └── RetryOnce                worth one more try only (it may have been billed)
        └── PaidInPart                   ended after some images arrived (kept)
"""

from __future__ import annotations

__all__ = ["NanobananaError"]


class NanobananaError(Exception):
    """Base of every error this package raises on purpose."""
