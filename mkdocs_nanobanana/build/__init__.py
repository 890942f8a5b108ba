"""One build's work, host-neutral: what a host calls (session), the site's directives read
into slots (analysis, with its cards' half card_planning; slot), the rows of `nanobanana
plan` (plan), what a build uses of the cache (site_use), the image work in flight
(scheduler, with its budget half approval), max_credits (budget), a paid call
(purchase), progress lines while paying (progress), runners sharing a remote cache
taking turns to buy (fleet), serve's generation across rebuilds (deferred), a user's
stop (stopping), what a figure or card is made from (sources), figures (renderer) and
cards (card_renderer) from cached images, the site's own pictures (own_images,
own_choice), and copies on the remote tier (remote_copies).

May import: core, store, imaging, cards, providers.
"""
