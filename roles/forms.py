"""Forms validate shape; the services enforce the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from . import catalog
from .models import Market, ScopeKind, WarehouseKind


def role_label(role):
    """A role as the grant form lists it: a time-limited one says so."""
    if role.default_days:
        return ngettext(
            "%(role)s (access ends after %(days)s day)",
            "%(role)s (access ends after %(days)s days)",
            role.default_days,
        ) % {"role": role.display_name, "days": role.default_days}
    return role.display_name


def permission_choices():
    return [(p.codename, p.label) for p in catalog.all_permissions()]


class RoleForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"), choices=permission_choices, widget=forms.CheckboxSelectMultiple
    )


class CloneRoleForm(forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=100)


class DeleteRoleForm(forms.Form):
    move_to = forms.TypedChoiceField(
        label=_("Move its members to"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, roles=(), required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["move_to"].choices = [("", "—")] + [(r.pk, r.display_name) for r in roles]
        self.fields["move_to"].required = required


class StoreForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=150)
    client_id = forms.CharField(label=_("Ozon Client-ID"), max_length=20)
    market = forms.ChoiceField(label=_("Market"), choices=Market.choices)


class RenameForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=150)


class WarehouseForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=WarehouseKind.choices)
    country = forms.ChoiceField(
        label=_("Country"),
        choices=[("", _("As the store's market")), *Market.choices],
        required=False,
        help_text=_("Where the warehouse is. Access follows its store's market."),
    )
    region = forms.CharField(label=_("Region"), max_length=100, required=False)


class WarehouseKindForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=WarehouseKind.choices,
        help_text=_("Warehouse permissions apply only to FBS and rFBS warehouses: FBO stock is Ozon's."),
    )


class GrantForm(forms.Form):
    role = forms.TypedChoiceField(label=_("Role"), coerce=int)
    scope_kind = forms.ChoiceField(label=_("Scope"), choices=ScopeKind.choices)
    market = forms.ChoiceField(label=_("Market"), choices=[("", "—"), *Market.choices], required=False)
    stores = forms.TypedMultipleChoiceField(
        label=_("Stores"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    warehouses = forms.TypedMultipleChoiceField(
        label=_("Warehouses"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    ends_at = forms.DateTimeField(
        label=_("Access ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "Empty: the role's own limit, if it has one (a Technology partner's access ends after 90 days)."
        ),
    )

    def __init__(self, *args, roles=(), stores=(), warehouses=(), seller=None, **kwargs):
        """With `seller`, stores and warehouses are searchable selects loaded on demand from the seller's
        option endpoints (the page holds only the chosen ones); else checkboxes of `stores`, `warehouses`."""
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.pk, role_label(r)) for r in roles]
        if seller is not None:
            from functools import partial

            from django.urls import reverse

            from ozonseat.widgets import IdsField

            from .options import store_labels, warehouse_labels

            for name, labels in (("stores", store_labels), ("warehouses", warehouse_labels)):
                self.fields[name] = IdsField(
                    label=self.fields[name].label,
                    required=False,
                    url=reverse(f"dashboard:{name[:-1]}_options", kwargs={"seller_id": seller.pk}),
                    labels=partial(labels, seller),
                )
            return
        self.fields["stores"].choices = [(s.pk, f"{s.name} ({s.market})") for s in stores]
        self.fields["warehouses"].choices = [
            (w.pk, f"{w.store.name} · {w.name} ({w.kind})") for w in warehouses if w.holds_permissions
        ]


class ScopeForm(forms.Form):
    """Where an assignment applies (its role stays): the grant form's scope part."""

    scope_kind = forms.ChoiceField(label=_("Scope"), choices=ScopeKind.choices)
    market = forms.ChoiceField(label=_("Market"), choices=[("", "—"), *Market.choices], required=False)
    stores = forms.TypedMultipleChoiceField(
        label=_("Stores"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    warehouses = forms.TypedMultipleChoiceField(
        label=_("Warehouses"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, stores=(), warehouses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stores"].choices = [(s.pk, f"{s.name} ({s.market})") for s in stores]
        self.fields["warehouses"].choices = [
            (w.pk, f"{w.store.name} · {w.name} ({w.kind})") for w in warehouses
        ]


class MatrixFilterForm(forms.Form):
    member = forms.TypedChoiceField(label=_("Member"), coerce=int, required=False, empty_value=None)
    store = forms.TypedChoiceField(label=_("Store"), coerce=int, required=False, empty_value=None)
    permission = forms.ChoiceField(label=_("Permission"), required=False)

    def __init__(self, *args, members=(), stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", _("Everyone")), *[(m.pk, m.display_name) for m in members]]
        self.fields["store"].choices = [
            ("", _("Everywhere")),
            *[(s.pk, f"{s.name} ({s.market})") for s in stores],
        ]
        self.fields["permission"].choices = [("", _("Every permission")), *permission_choices()]


class InviteAccessForm(GrantForm):
    """The role-and-scope part of "add sub-account": the grant form, with "no role yet"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The invitation form has its own end date: it wins over a role's default limit.
        self.fields.pop("ends_at", None)
        role = self.fields["role"]
        role.required = False
        role.empty_value = None
        role.choices = [("", _("No role yet")), *role.choices]
        role.help_text = _("More roles can be given on the sub-account's page.")
        scope_kind = self.fields["scope_kind"]
        scope_kind.required = False
        scope_kind.choices = [("", "—"), *scope_kind.choices]

    def clean(self):
        data = super().clean()
        if data.get("role") and not data.get("scope_kind"):
            self.add_error("scope_kind", _("Choose where the role applies."))
        scoped = any(data.get(name) for name in ("scope_kind", "market", "stores", "warehouses"))
        if not data.get("role") and scoped:
            # A scope without a role gives nothing: the invitation would go out with no access at all.
            self.add_error(
                "role",
                _(
                    "You chose where access applies but no role. Choose the role to give there, or "
                    "choose “No role yet” and clear the scope."
                ),
            )
        return data

    def grants(self) -> list[dict]:
        data = self.cleaned_data
        if not data.get("role"):
            return []
        return [
            {
                "role_id": data["role"],
                "scope_kind": data["scope_kind"],
                "market": data.get("market") or None,
                "stores": data.get("stores") or [],
                "warehouses": data.get("warehouses") or [],
            }
        ]
