"""Sans-io HTTP: messages, problem documents, CORS and the request handler."""

from .cors import CORS
from .message import Headers, Request, Response
from .problem import PROBLEM_JSON, HTTPError, problem_body

__all__ = ["CORS", "PROBLEM_JSON", "HTTPError", "Headers", "Request", "Response", "problem_body"]
