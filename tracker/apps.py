from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class TrackerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracker"
    verbose_name = "Withdrawal tracker"

    def ready(self) -> None:
        # The embedded default's directories: the SQLite file's, and STATIC_ROOT (WhiteNoise
        # warns about a missing one). Made at start-up rather than when settings are read.
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            name = str(database["NAME"])
            if name and name != ":memory:" and not name.startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

        from simple_history.signals import pre_create_historical_record

        from tracker import history

        # Names the source (or the note) behind every historical record: see tracker/history.py.
        pre_create_historical_record.connect(
            history.record_attribute, dispatch_uid="tracker.history.record_attribute"
        )
