"""Files and URLs to reports, paragraphs and chunks."""
