"""The MkDocs and ProperDocs adapter: the plugin's hooks (plugin), its options as MkDocs
Config classes (config), the site's pages (pages) and config (site), mkdocs.yml for the
command line (loading) and for `nanobanana doctor` (facts), and the preprocessor that
reports directives pasted in by includes (leftovers). The only code that imports MkDocs.

May import: core, store, imaging, cards, build, hosts.markdown.names.
"""
