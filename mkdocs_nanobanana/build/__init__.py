"""One build's work, host-neutral: what a host calls (session), the site's directives read
into slots (analysis, slot), the rows of `nanobanana plan` (plan), what a build uses of
the cache (site_use), the image work in flight (scheduler), max_credits (budget), a paid
call (purchase), progress lines while paying (progress), runners sharing a remote cache
taking turns to buy (fleet), serve's generation across rebuilds (deferred), a user's
stop (stopping), figures and cards from cached images (renderer), and copies on the
remote tier (remote_copies).

May import: core, store, imaging, cards, providers.
"""
