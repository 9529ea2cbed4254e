"""A mail backend for the tests that fails as told: ``ScriptedBackend.script``
lists what each next send does (an exception to raise, or None to deliver
to django.core.mail.outbox); ``refuse_open`` makes opening the connection
fail (the server is down)."""

from django.core.mail.backends.locmem import EmailBackend


class ScriptedBackend(EmailBackend):
    script: list[BaseException | None] = []
    refuse_open: BaseException | None = None
    opened = 0

    def open(self):
        if ScriptedBackend.refuse_open is not None:
            raise ScriptedBackend.refuse_open
        ScriptedBackend.opened += 1
        return True

    def send_messages(self, messages):
        if ScriptedBackend.script:
            step = ScriptedBackend.script.pop(0)
            if step is not None:
                raise step
        return super().send_messages(messages)
