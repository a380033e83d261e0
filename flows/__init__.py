"""The application: ingest, the plain pipeline, the Prefect flow, Parquet sinks and the CLI.

The only package that knows about files, Parquet and Prefect.
"""
