pytest_plugins = [
    "tests.plugins.services",
    "tests.plugins.replay",
    "tests.plugins.app",
    "tests.plugins.fastf1",
    "tests.plugins.clock",
]
