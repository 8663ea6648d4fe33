"""How a delivery failed: worth retrying, or not."""


class TransientDeliveryError(Exception):
    """Try again later: the provider or the network is briefly unavailable."""


class PermanentDeliveryError(Exception):
    """Do not retry: the address or the message is refused."""


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


# A lookup that cannot tell whether a message was delivered.
UNKNOWN = _Unknown()
