"""Where paid images are kept: the content-addressed cache on disk (cache, with the
manifest of which site uses what), its temp files (temp), the shared second tier on
object storage (remote), the claims by which the runners sharing it take turns to buy
(claims), where bought images go when the cache cannot take them (spill), what
`nanobanana verify --fix` keeps of a bad entry (repair), and what `nanobanana prune`
deletes (prune).

May import: core.
"""
