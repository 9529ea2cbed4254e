from collections.abc import Mapping

from rest_framework import serializers


def validate_input(serializer_class: type[serializers.Serializer], data, **kwargs) -> dict:
    """Validate request data with an input serializer (400 on errors) and
    return the validated data, for views that hand it to a service."""
    serializer = serializer_class(data=data, **kwargs)
    _refuse_other_json_types(serializer, data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# The JSON types the OpenAPI document gives these fields. DRF is lenient:
# its CharField stores the number 0 as "0", its BooleanField takes 0, 1 and
# "yes", its IntegerField takes "5". A client sending another type has a bug
# we should tell it about, not guess around.
_JSON_TYPES: tuple[tuple[type[serializers.Field], tuple[type, ...], tuple[type, ...]], ...] = (
    # (field class, accepted Python types of the parsed JSON, refused subtypes)
    (serializers.CharField, (str,), ()),
    (serializers.BooleanField, (bool,), ()),
    (serializers.IntegerField, (int, float), (bool,)),
)


def _refuse_other_json_types(serializer: serializers.Serializer, data) -> None:
    """A top-level value of another JSON type than the field's is a 400 with
    the field's own (documented) ``invalid`` code."""
    if not isinstance(data, Mapping):
        return
    errors = {}
    for name, field in serializer.fields.items():
        value = data.get(name)
        if field.read_only or value is None:
            continue  # null is the field's own business (allow_null)
        for field_class, accepted, refused in _JSON_TYPES:
            if isinstance(field, field_class):
                if not isinstance(value, accepted) or isinstance(value, refused):
                    errors[name] = [serializers.ErrorDetail(field.error_messages["invalid"], code="invalid")]
                break
    if errors:
        raise serializers.ValidationError(errors)
