from functools import partial

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from ozonseat.widgets import IdField

from . import selectors
from .events import all_event_types
from .vocabulary import all_kinds


class EventFilterForm(forms.Form):
    """The viewer's filters. The person and the store are searchable selects (ozonseat/widgets.py) loaded
    on demand from the seller's option endpoints: the page holds only the chosen one, not every person."""

    actor = IdField(label=_("Person"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    target_type = forms.ChoiceField(label=_("Target type"), required=False)
    target_id = forms.IntegerField(label=_("Target id"), required=False, min_value=1)
    store = forms.IntegerField(label=_("Store"), required=False, min_value=1)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, seller, **kwargs):
        super().__init__(*args, **kwargs)
        self.seller = seller
        self.fields["actor"] = IdField(
            label=_("Person"),
            required=False,
            url=reverse("dashboard:people_options", kwargs={"seller_id": seller.pk}),
            labels=partial(account_selectors.people_labels, seller),
        )
        self.fields["action"].choices = [("", _("Any action"))] + [
            (event_type.action, event_type.label) for event_type in all_event_types()
        ]
        self.fields["target_type"].choices = [("", _("Anything"))] + [
            (kind.kind, kind.label) for kind in all_kinds()
        ]
        if selectors.has_stores(seller):
            self.fields["store"] = IdField(
                label=_("Store"),
                required=False,
                url=reverse("dashboard:store_options", kwargs={"seller_id": seller.pk}) + "?inactive=1",
                labels=partial(selectors.store_labels, seller),
            )

    def clean_actor(self):
        actor = self.cleaned_data.get("actor")
        if actor is not None and not account_selectors.is_person_of_seller(self.seller, actor):
            raise forms.ValidationError(_("Choose one of this seller's people."), code="invalid_choice")
        return actor

    def clean_store(self):
        store = self.cleaned_data.get("store")
        offered = isinstance(self.fields["store"], IdField)  # before the seller has stores: any id
        if store is not None and offered and not selectors.is_store_of_seller(self.seller, store):
            raise forms.ValidationError(_("Choose one of this seller's stores."), code="invalid_choice")
        return store

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
