"""The docqa web page: a thin Gradio layer over `qa` (see `ui.app.create_app` and `ui.app.serve`)."""
