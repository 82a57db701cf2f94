"""Code under review: the repositories' tools (Git on a local path), and, as they arrive, diff
sets, file diffs and diff comments (spec: code-and-files.md)."""
