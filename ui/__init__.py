"""The Gradio front end.

`ui.app` is the only module here that imports gradio; `render`, `export`, `feedback` and `indexing`
are plain Python so the CLI and tests can use them without it.
"""
