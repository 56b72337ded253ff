"""``dvcstage view``: the media panel in a browser, served from this machine.

A local aiohttp server (:mod:`.app`) serves the panel bundle that the VS Code extension shows,
the workspace's files, and one WebSocket per page that it bridges to the real language server
running as a child process (:mod:`.lsp_bridge`). Every request needs a random token
(:mod:`.auth`); only files inside the workspace and the server's cache are served
(:mod:`.files`); every response carries a strict Content-Security-Policy (:mod:`.page`).
See ``docs/view.md``.
"""
