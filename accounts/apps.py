from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from audit import digests

        from . import browser_sessions, selectors, session_policy

        digests.provide_sellers(
            seller_by_id=selectors.seller_by_id, owner_addresses=selectors.owner_addresses
        )

        user_logged_in.connect(browser_sessions.on_user_logged_in, dispatch_uid="accounts.browser_session_in")
        user_logged_in.connect(session_policy.on_user_logged_in, dispatch_uid="accounts.session_policy_in")
        user_logged_out.connect(
            browser_sessions.on_user_logged_out, dispatch_uid="accounts.browser_session_out"
        )
