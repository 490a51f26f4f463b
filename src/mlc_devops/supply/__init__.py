"""Supply chain: wheel inspection, SBOMs, provenance, DSSE signatures, checksums, releases.

Each module keeps its decisions in pure functions over data (what an SBOM or a
statement contains, what a release holds) and its file and process work at the
edges, so the decisions are unit-tested without files or processes.
"""
