"""`python app.py`: the Gradio chat UI over the index, building it from the sample corpus on first start."""

from __future__ import annotations

import logging
import sys
import threading

from core.errors import OfstedQAError
from core.offline import enforce_offline
from core.settings import Settings


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings()
        from chatbot.build import build_index, build_pipeline

        index = build_index(settings)
        pipeline = build_pipeline(settings, index)
    except OfstedQAError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1

    from ui.app import build_app, serve
    from ui.indexing import IndexBuild

    build = IndexBuild(index, settings, echo=lambda line: print(line, flush=True))
    if not index.reports():
        # an index that already holds reports is used as it is; an empty one is built in the background
        # while the page shows the progress
        build.start()
    else:
        # the first question need not wait for the embedding model to load
        threading.Thread(target=pipeline.warm_up, name="warm-up", daemon=True).start()
    demo = build_app(pipeline, index, settings, build=build, gazetteer=pipeline.gazetteer)
    login = " (login required)" if settings.username and settings.password else ""
    print(f"Serving on http://{settings.host}:{settings.port}{login}", flush=True)
    serve(demo, index, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
