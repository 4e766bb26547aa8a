"""The batch service over HTTP (--http-listen): the Connect protocol (JSON and binary, unary and
streaming, GET for side-effect-free reads) and gRPC-Web, from the gRPC servicer's own methods
(docs/connect.md). It may import `server` and everything below it; only `main` imports it.
"""
