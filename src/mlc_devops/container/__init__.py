"""The container image: its tags, its docker build, a private engine, its Debian base, its entrypoint's identity."""
