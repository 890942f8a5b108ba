"""Helpers the tests import: no tests and no fixtures here (the fixtures are in
tests/conftest.py, the fake API is tests/fakeapi.py).

    commands     REPO; run() a command, bin_path() of a console script, nb() in a site
    sites        Site, a temporary MkDocs project; machine(), one on another machine
    images       photo_png(), seed_cache(), DEJAVU (a font file)
    html         figures() and check_files() of a built page, tags() of its <head>
    directives   directive() and fence(): a directive as Markdown
    logs         warnings() and summary() of a build's captured log records
    live         KEY and GKEY, the keys live tests set; answer_with_url(), a scripted
                 answer; one(), a Gemini build of one image
    stops        LIVE, many_pages(), start(), signal_after(): a live process stopped
    serve        Server (`<host> serve` as a subprocess), free_port()
    analysis     make_settings() and read(): Settings and an Analysis without MkDocs
    cdp          headless Chromium over the DevTools protocol
    provenance   xmp_of(), cached(), published(): provenance read back from built files
    corpus       HOSTILE, the folder of the hostile Markdown corpus (hostile/)
"""
