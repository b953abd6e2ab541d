from django import forms
from django.utils.translation import gettext_lazy as _

from .events import all_event_types
from .vocabulary import all_kinds


class EventFilterForm(forms.Form):
    actor = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    action = forms.ChoiceField(label=_("Action"), required=False)
    target_type = forms.ChoiceField(label=_("Target type"), required=False)
    target_id = forms.IntegerField(label=_("Target id"), required=False, min_value=1)
    store = forms.IntegerField(label=_("Store"), required=False, min_value=1)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, people=(), stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("Anyone"))] + [(pk, name) for pk, name in people]
        self.fields["action"].choices = [("", _("Any action"))] + [
            (event_type.action, event_type.label) for event_type in all_event_types()
        ]
        self.fields["target_type"].choices = [("", _("Anything"))] + [
            (kind.kind, kind.label) for kind in all_kinds()
        ]
        if stores:
            self.fields["store"] = forms.TypedChoiceField(
                label=_("Store"),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", _("Any store"))] + [(pk, name) for pk, name in stores],
            )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label=_("Keep audit events for (days)"),
        required=False,
        min_value=30,
        max_value=365 * 20,
        help_text=_("Empty: keep forever. Older events can then be archived to a file by an operator."),
    )


class DigestRecipientsForm(forms.Form):
    addresses = forms.CharField(
        label=_("Also e-mail the daily digest to"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One address a line, at most five. The owner always receives it."),
    )
