"""Reading a spreadsheet of people to invite and saying what is wrong with each row, in the reader's
language: the columns (e-mail, name, language, role, scope, end date) are recognised by their header in
English, Russian or Chinese; the scope names stores, markets or warehouses as the seller wrote them."""

import re
from dataclasses import dataclass, field
from datetime import datetime, time

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.cleaning import clean_email, clean_name, name_key
from accounts.models import Membership, MembershipStatus
from ozonseat.errors import InvalidInput
from roles import authority
from roles import services as roles_services
from roles.catalog import MEMBERS_MANAGE
from roles.models import Market, Role, ScopeKind, Store, Warehouse

COLUMNS = ("email", "name", "language", "role", "scope", "ends_on")
HEADERS = {
    "email": pgettext_lazy("import column", "E-mail"),
    "name": pgettext_lazy("import column", "Name"),
    "language": pgettext_lazy("import column", "Language"),
    "role": pgettext_lazy("import column", "Role"),
    "scope": pgettext_lazy("import column", "Scope"),
    "ends_on": pgettext_lazy("import column", "End date"),
}
MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
WHOLE_SELLER = "*"

PROBLEMS = {
    "bad_email": _("The e-mail address is not valid: %(why)s"),
    "bad_name": _("The name is not valid: %(why)s"),
    "bad_language": _("Unknown language “%(value)s”: write en, ru or zh-hans."),
    "unknown_role": _("No role is called “%(value)s”."),
    "role_not_grantable": _(
        "You cannot give the role “%(value)s” there: you do not hold %(permission)s there."
    ),
    "no_scope": _("Say where the role applies: store, market or warehouse names, or * for the whole seller."),
    "scope_without_role": _("A scope is given but no role."),
    "needs_role": _("You manage sub-accounts only in part of the seller: give this person a role within it."),
    "outside_reach": _("You cannot invite people there: you manage sub-accounts only elsewhere."),
    "unknown_place": _("No active store, warehouse or market is called “%(value)s”."),
    "ambiguous_place": _("Several warehouses are called “%(value)s”: write it as “store · warehouse”."),
    "mixed_scope": _("The scope mixes stores, markets and warehouses: use one kind, or one market."),
    "scope_unfit": _("The role does not fit this scope: %(why)s"),
    "bad_end_date": _("The end date “%(value)s” is not a date: write it as 2027-03-31."),
    "past_end_date": _("The end date %(value)s is not in the future."),
    "duplicate_row": _("The same e-mail address is already on line %(line)s."),
    "already_member": _("%(value)s is already a member of this seller."),
}


def problem_text(problem: dict) -> str:
    return str(PROBLEMS[problem["code"]]) % problem.get("params", {})


# --- the file ---------------------------------------------------------------------------------------


def _key(text) -> str:
    return name_key(str(text or "")).replace(" ", "").replace("-", "").replace("_", "").replace(".", "")


def _header_names() -> dict[str, str]:
    names = {column: column for column in COLUMNS}
    names["e-mail"] = names["mail"] = "email"
    names["end date"] = names["ends_at"] = "ends_on"
    for language, _label in settings.LANGUAGES:
        with translation.override(language):
            for column, header in HEADERS.items():
                names[str(header)] = column
    return {_key(name): column for name, column in names.items()}


def columns_of(header_row) -> dict[str, int] | None:
    """{column: position} read from a header row, or None when it names neither e-mail nor role."""
    names = _header_names()
    found = {}
    for position, cell in enumerate(header_row):
        column = names.get(_key(cell))
        if column and column not in found:
            found[column] = position
    return found if "email" in found else None


@dataclass
class ParsedRow:
    number: int
    values: dict


def parse_rows(rows) -> list[ParsedRow]:
    """The data rows under the header (blank lines left out). ValueError without a recognisable header."""
    rows = [list(row) for row in rows]
    found = next(((n, columns_of(row)) for n, row in enumerate(rows[:10]) if columns_of(row)), None)
    if found is None:
        raise ValueError("no header")
    index, positions = found
    parsed = []
    for number, row in enumerate(rows[index + 1 :], start=index + 2):
        values = {
            column: (str(row[position]).strip() if position < len(row) and row[position] is not None else "")
            for column, position in positions.items()
        }
        if not any(values.values()):
            continue
        parsed.append(ParsedRow(number, {column: values.get(column, "") for column in COLUMNS}))
    return parsed


# --- what each row means ------------------------------------------------------------------------------


@dataclass
class Context:
    """What checking a row needs, loaded once per file."""

    seller: object
    holdings: authority.Holdings
    roles: dict  # name key -> Role
    stores: dict  # name key -> Store
    warehouses: dict  # name key -> [Warehouse]; also "store · warehouse" keys
    markets: dict  # name key -> market code
    whole_seller: set  # keys meaning the whole seller
    languages: dict  # name key -> language code
    members: set  # e-mail addresses (lower case) of the seller's members who are not removed
    seen: dict = field(default_factory=dict)  # e-mail (lower case) -> first line

    @classmethod
    def load(cls, *, seller, actor_membership) -> "Context":
        roles = {}
        for role in Role.objects.filter(seller=seller).order_by("pk"):
            for shown in {role.name, *role.display_names()}:
                roles.setdefault(_key(shown), role)
        stores = {_key(s.name): s for s in Store.objects.filter(seller=seller, is_active=True)}
        warehouses = {}
        for warehouse in Warehouse.objects.filter(
            seller=seller, is_active=True, store__is_active=True
        ).select_related("store"):
            warehouses.setdefault(_key(warehouse.name), []).append(warehouse)
            warehouses[_key(f"{warehouse.store.name}·{warehouse.name}")] = [warehouse]
        markets, whole, languages = {}, {_key(WHOLE_SELLER), "*"}, {}
        for code in Market.values:
            markets[_key(code)] = code
        for language, label in settings.LANGUAGES:
            languages[_key(language)] = language
            for reader, _name in settings.LANGUAGES:
                with translation.override(reader):
                    languages[_key(label)] = language
                    for code, market_label in Market.choices:
                        markets[_key(market_label)] = code
                    whole.add(_key(ScopeKind.SELLER.label))
        languages.update({_key(name): code for name, code in NATIVE_LANGUAGE_NAMES.items()})
        members = {
            email.lower()
            for email in Membership.objects.filter(seller=seller)
            .exclude(status=MembershipStatus.REMOVED)
            .values_list("user__email", flat=True)
        }
        return cls(
            seller,
            authority.Holdings(actor_membership),
            roles,
            stores,
            warehouses,
            markets,
            whole,
            languages,
            members,
        )


NATIVE_LANGUAGE_NAMES = {
    "English": "en",
    "русский": "ru",
    "Russian": "ru",
    "中文": "zh-hans",
    "简体中文": "zh-hans",
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "Chinese": "zh-hans",
}
SCOPE_SEPARATORS = re.compile(r"[;\n]+")
WAREHOUSE_SEPARATORS = re.compile(r"\s*[·/>|]\s*")


def _problem(code, **params) -> dict:
    return {"code": code, "params": {key: str(value) for key, value in params.items()}}


def _scope(context: Context, text: str):
    """(scope kind, market, stores, warehouses) or a problem."""
    items = [item.strip() for item in SCOPE_SEPARATORS.split(text) if item.strip()]
    kinds, markets, stores, warehouses = set(), set(), [], []
    for item in items:
        key = _key(WAREHOUSE_SEPARATORS.sub("·", item))
        if key in context.whole_seller:
            kinds.add(ScopeKind.SELLER)
        elif key in context.stores:
            kinds.add(ScopeKind.STORES)
            stores.append(context.stores[key])
        elif key in context.warehouses:
            found = context.warehouses[key]
            if len(found) > 1:
                return _problem("ambiguous_place", value=item)
            kinds.add(ScopeKind.WAREHOUSES)
            warehouses.append(found[0])
        elif key in context.markets:
            kinds.add(ScopeKind.MARKET)
            markets.add(context.markets[key])
        else:
            return _problem("unknown_place", value=item)
    if len(kinds) != 1 or len(markets) > 1:
        return _problem("mixed_scope")
    kind = kinds.pop()
    return kind, (markets.pop() if markets else ""), stores, warehouses


def _end(context: Context, text: str):
    if not text:
        return None
    day = None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y.%m.%d"):
        try:
            day = datetime.strptime(text.strip(), pattern).date()
            break
        except ValueError:
            continue
    if day is None:
        return _problem("bad_end_date", value=text)
    zone = timezone.get_default_timezone()
    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(context.seller.time_zone)
    except Exception:  # noqa: S110 — an unknown zone name: the site's
        pass
    ends_at = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
    if ends_at <= timezone.now():
        return _problem("past_end_date", value=day.isoformat())
    return ends_at


def check_row(context: Context, values: dict, number: int) -> tuple[list, dict]:
    """(problems, what the invitation will use) for one row."""
    problems, clean = [], {}
    try:
        clean["clean_email"] = clean_email(values["email"])
    except InvalidInput as error:
        problems.append(_problem("bad_email", why=error.message))
    else:
        address = clean["clean_email"].lower()
        if address in context.seen:
            problems.append(_problem("duplicate_row", line=context.seen[address]))
        else:
            context.seen[address] = number
            if address in context.members:
                problems.append(_problem("already_member", value=clean["clean_email"]))
    try:
        clean_name(values["name"], field="display_name")
    except InvalidInput as error:
        problems.append(_problem("bad_name", why=error.message))
    language = values["language"]
    if language:
        code = context.languages.get(_key(language))
        if code is None:
            problems.append(_problem("bad_language", value=language))
        clean["language_code"] = code or ""
    ends = _end(context, values["ends_on"])
    if isinstance(ends, dict):
        problems.append(ends)
    else:
        clean["ends_at"] = ends
    role = None
    if not values["role"] and not context.holdings.holds_everywhere(MEMBERS_MANAGE):
        problems.append(_problem("needs_role"))  # a member with no role would lie outside the lead's reach
    if values["role"]:
        role = context.roles.get(_key(values["role"]))
        if role is None:
            problems.append(_problem("unknown_role", value=values["role"]))
    elif values["scope"]:
        problems.append(_problem("scope_without_role"))
    if values["role"] and not values["scope"]:
        problems.append(_problem("no_scope"))
    elif role is not None:
        scope = _scope(context, values["scope"])
        if isinstance(scope, dict):
            problems.append(scope)
        else:
            kind, market, stores, warehouses = scope
            try:
                market, stores, warehouses = roles_services.check_scope(
                    seller=context.seller,
                    role=role,
                    scope_kind=kind,
                    market=market or None,
                    stores=stores,
                    warehouses=warehouses,
                )
            except InvalidInput as error:
                problems.append(_problem("scope_unfit", why=error.message))
            else:
                if not context.holdings.covers(MEMBERS_MANAGE, kind, market, stores, warehouses):
                    problems.append(_problem("outside_reach"))
                missing = context.holdings.first_uncovered(role.permissions, kind, market, stores, warehouses)
                if missing is not None:
                    from roles import catalog

                    problems.append(
                        _problem(
                            "role_not_grantable", value=values["role"], permission=catalog.get(missing).label
                        )
                    )
                clean.update(
                    role_id=role.pk,
                    scope_kind=kind,
                    market=market,
                    store_ids=sorted(s.pk for s in stores),
                    warehouse_ids=sorted(w.pk for w in warehouses),
                )
    return problems, clean
