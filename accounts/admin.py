from django.contrib import admin

from .models import Membership, Seller, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "display_name", "is_active", "email_verified_at")
    search_fields = ("email", "display_name")
    readonly_fields = ("password", "session_stamp", "last_login", "date_joined")


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ("name", "default_language", "time_zone", "created_at")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "seller", "kind", "status", "ends_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Membership._meta.fields]
