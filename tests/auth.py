"""An authentication backend for the test settings: django-axes' backend, for Client.login() too."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class AxesBackendForTestClient(AxesStandaloneBackend):
    """Axes' backend, given a stand-in request when Django's test Client.login() authenticates without one.

    A locked-out username stays locked out for Client.login(); only the admin sign-in form counts failures.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            request = HttpRequest()
            request.META["REMOTE_ADDR"] = "127.0.0.1"
        return super().authenticate(request, username, password, **kwargs)
