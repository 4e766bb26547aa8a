"""The Connect protocol (JSON and binary, unary and streaming) serving the gRPC servicer."""
