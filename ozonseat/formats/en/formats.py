"""English date formats with a 24-hour clock, like the Russian and Chinese ones: sellers' staff read shift
times, and Django's "5:38 p.m." ends a sentence with "p.m.." in e-mails."""

DATETIME_FORMAT = "N j, Y, H:i"
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
TIME_FORMAT = "H:i"
