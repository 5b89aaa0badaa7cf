"""``redline serve``: a read-only web view of the archive (Starlette, Jinja2, uvicorn), with permalinks,
Atom feeds and a JSON API; it reads only through :mod:`archive.queries`."""
