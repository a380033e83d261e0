"""Deduplication: exact keys, MinHash signatures, within-article collapse and corpus clustering.

Plain functions over strings and arrays; never imports prefect, pyarrow or flows.
"""
