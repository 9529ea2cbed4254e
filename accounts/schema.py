"""OpenAPI description of our JWT authenticator (a simplejwt subclass)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JWTAuthenticationScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.JWTAuthentication"
