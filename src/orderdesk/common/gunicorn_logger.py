"""gunicorn's access log without payment-link tokens (`serve` passes it as --logger-class)."""

from __future__ import annotations

from gunicorn.glogging import Logger

from orderdesk.common.logs import payment_tokens_redacted

# The atoms of an access line that can hold the request's address or the page it came from.
ADDRESS_ATOMS = ("r", "U", "q", "f", "{referer}i", "{raw_uri}e", "{path_info}e")


class TokenRedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ADDRESS_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = payment_tokens_redacted(atoms[name])
        return atoms
