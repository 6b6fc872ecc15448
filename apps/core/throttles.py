"""Throttle sets used by views: the defaults plus a per-view scope (`throttle_scope`)."""

from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

# Views that set `throttle_scope = "login"` (etc.) use these: the global anon/user limits
# still apply, and the scope adds its own, stricter rate from DEFAULT_THROTTLE_RATES.
SCOPED_THROTTLES = (AnonRateThrottle, UserRateThrottle, ScopedRateThrottle)
