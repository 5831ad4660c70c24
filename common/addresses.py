"""Who is calling, as far as the proxies in front can be trusted to say."""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The caller's address behind `CAPTURE_TRUSTED_PROXY_COUNT` reverse proxies.

    Each trusted proxy appends the address it received the request from to
    X-Forwarded-For, so with N proxies the client is the N-th entry from the right;
    anything further left was written by the client and cannot be trusted. With 0
    proxies (the default) X-Forwarded-For is ignored entirely.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = settings.CAPTURE_TRUSTED_PROXY_COUNT
    if trusted > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= trusted:
            candidate = hops[-trusted]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote
