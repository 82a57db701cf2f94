"""The replay tool is a command, not a test module: pytest must not import it."""

collect_ignore = ["replay.py"]
