from rest_framework import serializers


def validate_input(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """Validate request data with an input serializer (400 on errors) and
    return the validated data, for views that hand it to a service."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
