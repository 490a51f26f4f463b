"""pytest configuration: registers upstream MLC-LLM's test markers.

Default selection (as used by mlc-devops):
    pytest tests/python -m unittest -k "not engine and not endpoint"
"""


def pytest_configure(config):
    markers = {
        "unittest": "fast tests that need no GPU and no model weights",
        "engine": "tests that run the serving engine (need a model and a GPU)",
        "endpoint": "tests of the REST endpoint (need a model and a GPU)",
        "op": "tests of individual operators/kernels",
        "uncategorized": "tests that fit nowhere else",
    }
    for name, description in markers.items():
        config.addinivalue_line("markers", f"{name}: {description}")
