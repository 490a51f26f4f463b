"""The build's steps, apart from its command line: decisions, native build, wheel checks, reports, publishing."""
