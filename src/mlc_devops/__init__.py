"""mlc-devops: build, test and release toolkit for the MLC-LLM codebase."""

__version__ = "0.1.0"
