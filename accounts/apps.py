from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import browser_sessions, session_policy

        user_logged_in.connect(browser_sessions.on_user_logged_in, dispatch_uid="accounts.browser_session_in")
        user_logged_in.connect(session_policy.on_user_logged_in, dispatch_uid="accounts.session_policy_in")
        user_logged_out.connect(
            browser_sessions.on_user_logged_out, dispatch_uid="accounts.browser_session_out"
        )
