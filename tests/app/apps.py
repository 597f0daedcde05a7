from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.app"
    label = "tests_app"

    def ready(self) -> None:
        # runjobs subprocesses of tests/runtime/test_faults*.py: connection faults, when asked for.
        from tests import faults

        faults.install()
