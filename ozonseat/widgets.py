"""A searchable select whose options are loaded on demand, a page of matches at a time, from a JSON endpoint
scoped to the seller (dashboard/views.py: people, stores, warehouses) — instead of every option in the page.

The page holds only what is chosen: a hidden input (one value) or ticked checkboxes (several), labelled
server-side by `labels(ids) -> [(id, label)]` in one query. static/js/ozonseat.js makes the text box an
ARIA combobox that fetches `url?q=…` and shows the matches as a listbox."""

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe


class SearchableSelect(forms.Widget):
    template_name = "includes/searchable_select.html"
    allow_multiple_selected = False

    def __init__(self, *, url: str = "", labels=None, multiple: bool = False, attrs=None):
        super().__init__(attrs)
        self.url = url
        self.labels = labels
        self.multiple = multiple
        self.allow_multiple_selected = multiple

    def value_from_datadict(self, data, files, name):
        if self.multiple:
            return data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return not self.multiple and name not in data

    def format_value(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for each in values:
            try:
                ids.append(int(each))
            except (TypeError, ValueError):
                continue
        return ids

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        ids = context["widget"]["value"]
        chosen = list(self.labels(ids)) if ids and self.labels is not None else []
        context["widget"].update(url=self.url, multiple=self.multiple, chosen=chosen)
        return context

    def _render(self, template_name, context, renderer=None):
        # The project's templates (TEMPLATES), not the form renderer's own engine.
        return mark_safe(render_to_string(template_name, context))  # noqa: S308 (a template, escaped)


class IdField(forms.IntegerField):
    """One id chosen in a SearchableSelect (the service or `clean_<name>` checks it is the seller's)."""

    def __init__(self, *, url="", labels=None, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(widget=SearchableSelect(url=url, labels=labels), **kwargs)

    def widget_attrs(self, widget):
        return {}


class IdsField(forms.TypedMultipleChoiceField):
    """Several ids chosen in a SearchableSelect: any positive integers (at most 500); the service checks
    they are the seller's."""

    def __init__(self, *, url="", labels=None, **kwargs):
        kwargs.setdefault("coerce", int)
        super().__init__(widget=SearchableSelect(url=url, labels=labels, multiple=True), **kwargs)

    def valid_value(self, value):
        return str(value).isdigit() and 0 < int(value) < 2**31

    def clean(self, value):
        value = super().clean(value)
        if len(value) > 500:
            raise forms.ValidationError(forms.MultipleChoiceField.default_error_messages["invalid_list"])
        return sorted(set(value))
