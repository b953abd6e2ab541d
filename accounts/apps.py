from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from audit import digests
        from audit import services as audit_services

        from . import authorization, browser_sessions, cleaning, selectors, session_policy, sign_in_events

        sign_in_events.connect()  # sign-ins in each seller's audit log

        audit_services.provide_people(
            require_seller_permission=authorization.require_seller_permission,
            clean_email=cleaning.clean_email,
        )

        digests.provide_sellers(
            seller_by_id=selectors.seller_by_id, owner_addresses=selectors.owner_addresses
        )

        user_logged_in.connect(browser_sessions.on_user_logged_in, dispatch_uid="accounts.browser_session_in")
        user_logged_in.connect(session_policy.on_user_logged_in, dispatch_uid="accounts.session_policy_in")
        user_logged_out.connect(
            browser_sessions.on_user_logged_out, dispatch_uid="accounts.browser_session_out"
        )
