from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from eventmaster.roles import Role, user_roles

from .models import User


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "email", "full_name", "roles", "is_active", "date_joined")
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)))
    def get_roles(self, user: User) -> list[str]:
        return sorted(user_roles(user))


class UserRefSerializer(serializers.ModelSerializer):
    """A user as other resources show them (organizer, checked in by)."""

    class Meta:
        model = User
        fields = ("id", "full_name")
        read_only_fields = fields


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150)


class LoginInputSerializer(serializers.Serializer):
    # Not an EmailField: any e-mail/password pair that does not log in gets
    # the same 401 invalid_credentials.
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class MeUpdateInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150)


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class UserUpdateInputSerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), allow_empty=True, max_length=len(Role.values)
    )
    is_active = serializers.BooleanField()
    full_name = serializers.CharField(max_length=150)
