"""The corpus pipeline: document specs -> prompts -> responses -> checks -> dedup -> manifest -> evidence.

One module per stage. Network code lives only in :mod:`asara.corpus.backends`; every other module is a
pure function over records and files in the corpus folder.
"""
