"""Where account changes reach the apps above accounts, called explicitly by accounts services inside their
transaction (no signals: bulk operations would skip them). accounts imports nothing above it: the apps that
keep data about people (roles: the permission index and assignments) connect their functions here in their
AppConfig.ready (`connect`)."""

_receivers: dict[str, list] = {
    "seller_created": [],
    "membership_changed": [],
    "ownership_transferred": [],
    "membership_removed": [],
}


def connect(**receivers) -> None:
    """connect(seller_created=f, membership_changed=g, ...): each called with the hook's keyword arguments.
    Connecting the same function twice keeps one."""
    for name, receiver in receivers.items():
        if name not in _receivers:
            raise ValueError(f"Unknown accounts hook {name!r}")
        if receiver not in _receivers[name]:
            _receivers[name].append(receiver)


def _call(name, **kwargs) -> None:
    for receiver in _receivers[name]:
        receiver(**kwargs)


def seller_created(seller) -> None:
    _call("seller_created", seller=seller)


def membership_changed(membership) -> None:
    _call("membership_changed", membership=membership)


def ownership_transferred(*, seller, old_owner, new_owner, actor) -> None:
    _call("ownership_transferred", seller=seller, old_owner=old_owner, new_owner=new_owner, actor=actor)


def membership_removed(*, membership, actor) -> None:
    """A member left the seller: the apps above end what they keep for them (roles: each assignment,
    recorded with the reason)."""
    _call("membership_removed", membership=membership, actor=actor)
