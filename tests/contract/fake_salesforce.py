"""A local Salesforce, written from the public documentation of the endpoints orderdesk uses.

- SOAP `login()` (Partner API, `POST /services/Soap/u/<version>`, SOAPAction login): a
  `loginResponse` with `serverUrl` and `sessionId`, or a fault `INVALID_LOGIN`.
- REST (`/services/data/v<version>/…`, `Authorization: Bearer <session>`; a bad session is
  401 `[{"errorCode": "INVALID_SESSION_ID"}]`):
  - upsert by external ID: `PATCH sobjects/<Object>/<ExternalIdField>/<value>`, 201
    `{"id", "success", "errors", "created": true}` when created, 200 with `created: false`
    when updated (API 46.0 and later);
  - update: `PATCH sobjects/<Object>/<id>`, 204;
  - create: `POST sobjects/<Object>/`, 201 `{"id", "success", "errors"}`;
  - retrieve by external ID: `GET sobjects/<Object>/<ExternalIdField>/<value>`;
  - query: `GET query?q=SELECT … FROM <Object> WHERE <Field> = '<value>'`.
  Errors are a JSON list of `{"message", "errorCode", "fields"}` (INVALID_FIELD, NOT_FOUND,
  INVALID_CROSS_REFERENCE_KEY, JSON_PARSER_ERROR).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

from tests.contract.servers import LocalServer, QuietHandler

SOAP_NS = {"env": "http://schemas.xmlsoap.org/soap/envelope/", "n1": "urn:partner.soap.sforce.com"}
ORDER_FIELDS = {
    "Name",
    "Order_Number__c",
    "Status__c",
    "Total_Minor__c",
    "Currency__c",
    "Account__c",
    "Supersedes__c",
    "Replaced_By__c",
    "Payment_State__c",
    "Payment_Expires_At__c",
    "Authorized_Minor__c",
    "Estimated_Delivery_Date__c",
}
LOOKUPS = {"Supersedes__c", "Replaced_By__c"}


class FakeSalesforce(LocalServer):
    def __init__(self, tls_dir, *, username="sync@example.com", password="pw", token="TOKEN"):
        super().__init__(SalesforceHandler, tls_dir=tls_dir)
        self.credentials = (username, password + token)
        self.sessions: set[str] = set()
        self.records: dict[str, dict] = {}  # id -> fields, of the object Order__c
        self.requests: list[tuple[str, str, dict | None]] = []
        self.logins = 0
        self.fail_next: list[int] = []  # statuses to answer the next REST calls with
        self.lock = threading.Lock()

    def issue_session(self) -> str:
        session = "00D" + secrets.token_hex(12) + "!" + secrets.token_urlsafe(24)
        self.sessions.add(session)
        return session

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def by_number(self, number: str) -> dict | None:
        return next(
            (
                {"Id": record_id, **fields}
                for record_id, fields in self.records.items()
                if fields.get("Order_Number__c") == number
            ),
            None,
        )


def _error(code: str, message: str, fields=()) -> bytes:
    return json.dumps([{"message": message, "errorCode": code, "fields": list(fields)}]).encode()


class SalesforceHandler(QuietHandler):
    @property
    def fake(self) -> FakeSalesforce:
        return self.server.fake

    # --- SOAP login ----------------------------------------------------------------------
    def do_POST(self):
        path = urlsplit(self.path).path
        if path.startswith("/services/Soap/u/"):
            return self._login(path)
        return self._rest("POST")

    def do_PATCH(self):
        return self._rest("PATCH")

    def do_GET(self):
        return self._rest("GET")

    def _login(self, path: str):
        body = self.body()
        if self.headers.get("SOAPAction") != "login" or "text/xml" not in self.headers.get(
            "content-type", ""
        ):
            return self.reply(400, b"not a SOAP login", "text/plain")
        envelope = ElementTree.fromstring(body)
        username = envelope.findtext(".//n1:username", namespaces=SOAP_NS)
        password = envelope.findtext(".//n1:password", namespaces=SOAP_NS)
        if (username, password) != self.fake.credentials:
            fault = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
                "<faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid "
                "username, password, security token; or user locked out.</faultstring><detail>"
                "<sf:LoginFault><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>"
                "<sf:exceptionMessage>Invalid username, password, security token; or user "
                "locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>"
                "</soapenv:Body></soapenv:Envelope>"
            )
            return self.reply(500, fault.encode(), "text/xml")
        version = path.rsplit("/", 1)[-1]
        with self.fake.lock:
            self.fake.logins += 1
            session = self.fake.issue_session()
        server_url = f"{self.fake.url}/services/Soap/u/{version}/00D000000000001"
        response = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
            f"<metadataServerUrl>{server_url}</metadataServerUrl><passwordExpired>false"
            f"</passwordExpired><sandbox>false</sandbox><serverUrl>{server_url}</serverUrl>"
            f"<sessionId>{session}</sessionId><userId>005000000000001AAA</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return self.reply(200, response.encode(), "text/xml")

    # --- REST ----------------------------------------------------------------------------
    def _rest(self, method: str):
        parts = urlsplit(self.path)
        match = re.fullmatch(r"/services/data/v(\d+\.\d)/(.*)", parts.path)
        body = self.body()
        if match is None:
            return self.reply(404, _error("NOT_FOUND", "The requested resource does not exist"))
        authorization = self.headers.get("Authorization", "")
        if authorization.removeprefix("Bearer ") not in self.fake.sessions:
            return self.reply(401, _error("INVALID_SESSION_ID", "Session expired or invalid"))
        with self.fake.lock:
            if self.fake.fail_next:
                status = self.fake.fail_next.pop(0)
                return self.reply(status, _error("SERVER_UNAVAILABLE", "try again later"))
        document = None
        if body:
            if "application/json" not in self.headers.get("content-type", ""):
                return self.reply(415, _error("UNSUPPORTED_MEDIA_TYPE", "send JSON"))
            try:
                document = json.loads(body)
            except ValueError:
                return self.reply(400, _error("JSON_PARSER_ERROR", "not JSON"))
        resource = unquote(match.group(2))
        with self.fake.lock:
            self.fake.requests.append((method, resource, document))
            return self._route(method, resource, document, parse_qs(parts.query))

    def _route(self, method, resource, document, query):
        segments = resource.rstrip("/").split("/")
        if method == "GET" and segments == ["query"]:
            return self._query(query.get("q", [""])[0])
        if segments[0] != "sobjects" or len(segments) < 2 or segments[1] != "Order__c":
            return self.reply(404, _error("NOT_FOUND", "The requested resource does not exist"))
        if method == "POST" and len(segments) == 2:
            return self._write(None, document, created_status=201)
        if len(segments) == 4 and segments[2] == "Order_Number__c":
            existing = self.fake.by_number(segments[3])
            if method == "GET":
                if existing is None:
                    return self.reply(
                        404, _error("NOT_FOUND", "The requested resource does not exist")
                    )
                return self.reply(200, json.dumps(existing).encode())
            if method == "PATCH":
                fields = {**(document or {}), "Order_Number__c": segments[3]}
                return self._write(
                    existing["Id"] if existing else None, fields, created_status=201, upsert=True
                )
        if len(segments) == 3 and method == "PATCH":
            if segments[2] not in self.fake.records:
                return self.reply(404, _error("NOT_FOUND", "The requested resource does not exist"))
            return self._write(segments[2], document, created_status=201)
        return self.reply(405, _error("METHOD_NOT_ALLOWED", "not supported here"))

    def _write(self, record_id, fields, *, created_status, upsert=False):
        unknown = set(fields or {}) - ORDER_FIELDS
        if unknown:
            name = sorted(unknown)[0]
            return self.reply(
                400,
                _error(
                    "INVALID_FIELD", f"No such column '{name}' on sobject of type Order__c", [name]
                ),
            )
        for lookup in LOOKUPS & set(fields):
            if fields[lookup] not in self.fake.records:
                return self.reply(
                    400,
                    _error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [lookup]),
                )
        if record_id is None:
            record_id = "a01" + secrets.token_hex(6)[:12] + "AAA"
            self.fake.records[record_id] = dict(fields)
            answer = {"id": record_id, "success": True, "errors": []}
            if upsert:
                answer["created"] = True
            return self.reply(created_status, json.dumps(answer).encode())
        self.fake.records[record_id].update(fields)
        if upsert:
            answer = {"id": record_id, "success": True, "errors": [], "created": False}
            return self.reply(200, json.dumps(answer).encode())
        return self.reply(204)

    def _query(self, soql: str):
        match = re.fullmatch(
            r"SELECT\s+(.+?)\s+FROM\s+Order__c\s+WHERE\s+(\w+)\s*=\s*'([^']*)'", soql.strip(), re.I
        )
        if match is None:
            return self.reply(400, _error("MALFORMED_QUERY", "only simple WHERE field = 'value'"))
        columns = [column.strip() for column in match.group(1).split(",")]
        field, value = match.group(2), match.group(3)
        rows = [
            {"attributes": {"type": "Order__c"}, **{c: ({"Id": rid, **f}).get(c) for c in columns}}
            for rid, f in self.fake.records.items()
            if ({"Id": rid, **f}).get(field) == value
        ]
        return self.reply(
            200, json.dumps({"totalSize": len(rows), "done": True, "records": rows}).encode()
        )


@contextmanager
def salesforce_serving(tmp_path, settings, monkeypatch):
    """The fake running, with orderdesk's CRM logging in to it through simple-salesforce."""
    from orderdesk.crm.adapters import salesforce

    with FakeSalesforce(tmp_path) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        settings.ORDERDESK_CRM = "salesforce"
        settings.ORDERDESK_SALESFORCE_USERNAME = "sync@example.com"
        settings.ORDERDESK_SALESFORCE_PASSWORD = "pw"
        settings.ORDERDESK_SALESFORCE_SECURITY_TOKEN = "TOKEN"
        settings.ORDERDESK_SALESFORCE_LOGIN_URL = server.url
        settings.ORDERDESK_SALESFORCE_ACCESS_TOKEN = ""
        settings.ORDERDESK_SALESFORCE_INSTANCE_URL = ""
        salesforce.sessions_forget()
        yield server
        salesforce.sessions_forget()
