"""English as the tracker writes it: day month year, 24-hour times (all times are UTC).

Django's own English formats are American ("Sept. 15, 2024, 12:54 a.m."); the admin and any
template that formats a date without a format of its own use these instead, so they read like
the site. Input formats are Django's, ISO first.
"""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1
