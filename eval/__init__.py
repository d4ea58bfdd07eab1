"""The Q&A regression suite: datasets, metrics, a runner, reports and comparison baselines.

Built to `docs/EVAL_FORMAT.md`: hand-written YAML cases are asked of any `QuestionAnswerer`,
scored with pure metric functions, and written out as results.json, report.md, junit.xml and
a chart. `eval.cli` is the front end that the main CLI's `eval` command calls.
"""
