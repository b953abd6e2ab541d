"""Forms of the review pages: shape only; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from roles.models import Market

from .models import Decision, Recommendation
from .selectors import STATES


class StartReviewForm(forms.Form):
    members = forms.TypedMultipleChoiceField(label=_("Members"), coerce=int, required=False)
    stores = forms.TypedMultipleChoiceField(label=_("Stores"), coerce=int, required=False)
    markets = forms.MultipleChoiceField(label=_("Markets"), choices=Market.choices, required=False)

    def __init__(self, *args, members=(), stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [(m.pk, f"{m.user} <{m.user.email}>") for m in members]
        self.fields["stores"].choices = [(s.pk, f"{s.name} ({s.market})") for s in stores]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Your answer"), choices=Decision.choices, widget=forms.RadioSelect)
    remove_assignments = forms.TypedMultipleChoiceField(
        label=_("Roles to take away (for “Change”)"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, assignments=(), decisions=Decision.choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = decisions
        self.fields["remove_assignments"].choices = assignments


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        choices=[("waiting", _("Waiting")), ("answered", _("Answered")), ("all", _("All"))], required=False
    )
    recommendation = forms.ChoiceField(
        choices=[("", _("Any recommendation")), *Recommendation.choices], required=False
    )
    mine = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=100)

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        state = data.get("state") or "waiting"
        return {
            "state": state if state in STATES else "waiting",
            "recommendation": data.get("recommendation", ""),
            "mine": bool(data.get("mine")),
            "search": data.get("q", ""),
        }
