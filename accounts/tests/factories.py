import factory

from accounts.models import User
from eventmaster.roles import Role, role_group

DEFAULT_PASSWORD = "a-long-enough-test-password-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create:
            return
        names = [Role.MEMBER] if extracted is None else list(extracted)
        # Through the m2m manager, so the staff flag follows as in production.
        self.groups.add(*(role_group(name) for name in names))
        self.refresh_from_db(fields=["is_staff"])
