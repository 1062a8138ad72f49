"""The gRPC edge: server, servicers, the call interceptor and the one model-to-proto converter."""
