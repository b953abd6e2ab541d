from django.contrib.admin.apps import AdminConfig


class OzonSeatAdminConfig(AdminConfig):
    """django.contrib.admin with OzonSeat's admin site (ozonseat.admin_site): the site's sign-in only."""

    default_site = "ozonseat.admin_site.OzonSeatAdminSite"
