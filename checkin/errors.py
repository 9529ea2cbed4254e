from eventmaster.errors import DomainError


class NonceReusedError(DomainError):
    default_code = "nonce_reused"
    default_detail = (
        "This nonce was already used by you for another ticket or event; send a new one per scan."
    )
