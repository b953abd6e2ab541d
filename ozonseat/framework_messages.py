"""Django's and Django REST framework's own messages that OzonSeat shows, worded again for ru and zh-Hans.

Their catalogs miss some of these or word them stiffly: Django 5 changed the password validators' messages
(`%(min_length)d` became `%d`) and its zh_Hans catalog still translates only the old text, so "This password
is too short…" came out in English on Chinese pages; its zh_Hans form error for a long value reads
"确保该变量包含不超过 150 字符". The same message ids in OzonSeat's own catalogs win, because LOCALE_PATHS
come before every app's catalog. This module is never imported: it lists the ids so that makemessages keeps
them.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_FORMS = (
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    ngettext_lazy(
        "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Enter a valid date/time."),
)

DJANGO_PASSWORD_VALIDATORS = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    gettext_noop("This password is too common."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
)

REST_FRAMEWORK = (
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure this field has at least {min_length} characters."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("This field may not be blank."),
    gettext_noop("A valid integer is required."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop("Datetime has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Not a valid string."),
)
