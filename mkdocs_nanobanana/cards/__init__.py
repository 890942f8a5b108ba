"""Social cards: which image a page's card comes from and its meta tags (social), the
1200x630 drawing and its cache key (drawing), and the card enclosures in RSS feeds
(feeds).

May import: core, store, imaging.
"""
